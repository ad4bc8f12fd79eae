import logging
from typing import Any

import pytest

from app.core.config import Settings
from app.services.mail import LogMailer, Mail, SmtpMailer, build_mailer

MAIL = Mail("ann@example.com", "Reset your password", "open https://x/reset#token=SECRET")


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, secret_key="k" * 32, **values)


def test_without_smtp_host_mail_goes_to_the_log() -> None:
    assert isinstance(build_mailer(_settings()), LogMailer)
    assert isinstance(build_mailer(_settings(smtp_host="mail.example.com")), SmtpMailer)


async def test_development_log_shows_the_link(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await LogMailer(_settings()).send(MAIL)

    assert "token=SECRET" in caplog.text


async def test_production_log_never_shows_the_link(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        await LogMailer(_settings(app_env="production", public_url="https://a.example")).send(MAIL)

    assert "a***@example.com" in caplog.text  # enough to tell accounts apart
    assert "ann@example.com" not in caplog.text
    assert "SECRET" not in caplog.text
