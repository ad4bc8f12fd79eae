"""The log format's pure pieces: rendering, redaction, email masking."""

import json
import logging

import pytest
import structlog

from app.core.config import Settings
from app.core.log_context import REDACTED, mask_email, redact
from app.core.logging import build_formatter


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("app.test", logging.WARNING, __file__, 1, message, args, None)


def test_json_format_renders_stdlib_records_as_one_json_object() -> None:
    formatter = build_formatter(Settings(_env_file=None, log_format="json"))

    line = json.loads(formatter.format(_record("store down: %s", "timeout")))

    assert line["event"] == "store down: timeout"
    assert line["level"] == "warning"
    assert line["logger"] == "app.test"
    assert line["timestamp"].endswith("Z")


def test_console_format_is_plain_text_for_people() -> None:
    formatter = build_formatter(Settings(_env_file=None, log_format="console"))

    rendered = formatter.format(_record("store down: %s", "timeout"))

    assert "store down: timeout" in rendered and not rendered.startswith("{")


@pytest.mark.parametrize(
    ("app_env", "expected"), [("development", "console"), ("production", "json")]
)
def test_the_format_defaults_to_json_in_production_and_console_in_development(
    app_env: str, expected: str
) -> None:
    settings = Settings(
        _env_file=None, app_env=app_env, secret_key="k" * 32, public_url="https://a.example"
    )

    assert settings.log_renderer == expected


def test_secret_keys_are_redacted_and_emails_masked() -> None:
    event = redact(
        None,
        "info",
        {
            "event": "x",
            "password": "hunter2 hunter2",
            "new_password": "p",
            "refresh_token": "t",
            "Authorization": "Bearer t",
            "client_secret": "s",
            "email": "jane.doe@example.com",
            "owner_email": "ann@example.org",
            "status": 200,
        },
    )

    for key in ("password", "new_password", "refresh_token", "Authorization", "client_secret"):
        assert event[key] == REDACTED
    assert event["email"] == "j***@example.com"
    assert event["owner_email"] == "a***@example.org"
    assert event["status"] == 200


def test_structlog_lines_are_redacted_too() -> None:
    with structlog.testing.capture_logs(processors=[redact]) as captured:
        structlog.get_logger().info("login", password="hunter2", email="bob@example.com")

    assert captured[0]["password"] == REDACTED
    assert captured[0]["email"] == "b***@example.com"


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("jane@example.com", "j***@example.com"),
        ("@example.com", "***@example.com"),
        ("x", REDACTED),
    ],
)
def test_mask_email(email: str, masked: str) -> None:
    assert mask_email(email) == masked
