"""Settings: validation that refuses unsafe production setups, and the development key file."""

import os
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import PROJECT_ROOT, Settings

SETTINGS_ENV = (
    "APP_ENV",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "BCRYPT_ROUNDS",
    "CORS_ORIGINS",
    "PLUGINS",
    "DATABASE_URL",
    "PUBLIC_URL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests decide every setting themselves."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)


def build(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_production_without_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        build(app_env="production", bcrypt_rounds=12)


def test_production_without_secret_key_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "production")

    with pytest.raises(ValidationError, match="SECRET_KEY"):
        build()


@pytest.mark.parametrize(
    "key", ["", "short", "x" * 31, "é" * 15], ids=["empty", "5", "31", "30-bytes"]
)
def test_secret_key_shorter_than_32_bytes_is_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        build(secret_key=key)


def test_secret_key_of_32_bytes_is_accepted_and_signs() -> None:
    key = "é" * 16  # 16 characters, 32 bytes

    assert build(secret_key=key).signing_key() == key


@pytest.mark.parametrize("rounds", [4, 9])
def test_production_with_cheap_bcrypt_is_refused(rounds: int) -> None:
    with pytest.raises(ValidationError, match="BCRYPT_ROUNDS"):
        build(app_env="production", secret_key=secrets.token_hex(32), bcrypt_rounds=rounds)


def test_production_with_secret_key_and_real_cost_is_accepted() -> None:
    settings = build(
        app_env="production",
        secret_key=secrets.token_hex(32),
        bcrypt_rounds=10,
        public_url="https://auth.example.com",
    )

    assert settings.is_production


def test_a_refused_setting_does_not_print_the_secret_key() -> None:
    key = secrets.token_hex(32)

    with pytest.raises(ValidationError) as refused:
        build(app_env="production", secret_key=key, bcrypt_rounds=4, public_url="https://a.test")

    assert "BCRYPT_ROUNDS" in str(refused.value)
    assert key[-8:] not in str(refused.value)


def test_production_without_public_url_is_refused() -> None:
    # The development default would send emailed links and QR codes to 127.0.0.1.
    with pytest.raises(ValidationError, match="PUBLIC_URL is required when APP_ENV=production"):
        build(app_env="production", secret_key=secrets.token_hex(32), bcrypt_rounds=10)


@pytest.mark.parametrize(
    "url", ["http://auth.example.com", "http://10.0.0.5:8000", "ftp://auth.example.com"]
)
def test_production_refuses_a_public_url_that_is_not_https(url: str) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_URL must be an"):
        build(app_env="production", secret_key=secrets.token_hex(32), public_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "https://auth.example.com",
        "https://auth.example.com/accounts/",
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_production_accepts_https_and_loopback_http_public_urls(url: str) -> None:
    settings = build(app_env="production", secret_key=secrets.token_hex(32), public_url=url)

    assert settings.public_url == url


@pytest.mark.parametrize(
    "url",
    [
        "auth.example.com",
        "/accounts",
        "https://",
        "https://a.test/?next=x",
        "https://a.test/#x",
        "https://user:pw@a.test",
    ],
)
def test_public_url_must_be_an_absolute_url_without_extras_in_any_environment(url: str) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_URL must"):
        build(public_url=url)


def test_development_allows_cheap_bcrypt_and_no_secret_key() -> None:
    settings = build(bcrypt_rounds=4)

    assert not settings.is_production
    assert settings.secret_key is None


@pytest.mark.parametrize("rounds", [3, 17])
def test_bcrypt_rounds_outside_4_to_16_are_refused(rounds: int) -> None:
    with pytest.raises(ValidationError):
        build(bcrypt_rounds=rounds)


def test_every_database_wait_is_bounded_by_default() -> None:
    settings = build()

    # A few seconds each, so a hung database costs a 503 quickly, never a hung request.
    for seconds in (
        settings.database_pool_timeout,
        settings.database_connect_timeout_seconds,
        settings.database_command_timeout_seconds,
    ):
        assert 0 < seconds <= 10


@pytest.mark.parametrize(
    "name",
    [
        "database_pool_timeout",
        "database_connect_timeout_seconds",
        "database_command_timeout_seconds",
        "shutdown_timeout_seconds",
        "hash_queue_limit",
    ],
)
def test_a_zero_timeout_or_limit_is_refused(name: str) -> None:
    # Zero would mean "never wait" or "refuse everything"; no limit at all isn't offered.
    with pytest.raises(ValidationError):
        build(**{name: 0})


@pytest.mark.parametrize(
    ("name", "value"), [("password_min_score", -1), ("password_min_score", 5), ("service_name", "")]
)
def test_password_policy_settings_out_of_range_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        build(**{name: value})


def test_password_policy_settings_default_to_a_score_floor_and_a_name() -> None:
    settings = build()

    assert settings.password_min_score == 2
    assert settings.service_name == "Auth service"


def test_unknown_app_env_is_refused() -> None:
    with pytest.raises(ValidationError):
        build(app_env="staging")


def test_development_signing_key_is_created_in_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "nested" / "secret_key"

    key = build(secret_key_file=key_file).signing_key()

    assert key_file.read_text().strip() == key
    assert len(bytes.fromhex(key)) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_development_signing_key_is_the_same_on_the_next_call_and_start(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    first = build(secret_key_file=key_file)

    key = first.signing_key()

    assert first.signing_key() == key
    assert build(secret_key_file=key_file).signing_key() == key


def test_development_signing_keys_differ_between_key_files(tmp_path: Path) -> None:
    one = build(secret_key_file=tmp_path / "one").signing_key()
    two = build(secret_key_file=tmp_path / "two").signing_key()

    assert one != two


def test_existing_key_file_is_used_as_is(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("k" * 40 + "\n")

    assert build(secret_key_file=key_file).signing_key() == "k" * 40


def test_secret_key_wins_over_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key = secrets.token_hex(32)

    assert build(secret_key=key, secret_key_file=key_file).signing_key() == key
    assert not key_file.exists()


def test_signing_key_is_never_empty_or_short(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("")

    try:
        key = build(secret_key_file=key_file).signing_key()
    except (ValueError, RuntimeError, OSError):
        return  # refusing to start is fine too
    assert len(key.encode()) >= 32


def test_workers_starting_together_agree_on_the_development_key(tmp_path: Path) -> None:
    key_file = tmp_path / "data" / "secret_key"
    script = (
        "import sys, time\n"
        "from app.core.config import Settings\n"
        "settings = Settings(_env_file=None, secret_key_file=sys.argv[1])\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # start together\n"
        "print(settings.signing_key())\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    environment["PYTHONPATH"] = str(PROJECT_ROOT)
    start_at = str(time.time() + 3)
    workers = [
        subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-c", script, str(key_file), start_at],
            cwd=tmp_path,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [worker.communicate(timeout=60) for worker in workers]

    assert [worker.returncode for worker in workers] == [0] * 6, results
    keys = {stdout.strip() for stdout, _ in results}
    assert keys == {key_file.read_text().strip()}
    assert len(bytes.fromhex(keys.pop())) == 32
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["secret_key"]  # no drafts


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example", ["https://a.example"]),
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        (" https://a.example ,,https://b.example, ", ["https://a.example", "https://b.example"]),
        ("", []),
    ],
    ids=["one", "two", "spaces-and-empties", "empty"],
)
def test_cors_origins_and_plugins_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", raw)
    monkeypatch.setenv("PLUGINS", raw)

    settings = build()

    assert settings.cors_origins == expected
    assert settings.plugins == expected


def test_plugins_keep_module_colon_attribute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINS", "qrcode_login, extras.audit:plugin")

    assert build().plugins == ["qrcode_login", "extras.audit:plugin"]


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    key = secrets.token_hex(32)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.setenv("BCRYPT_ROUNDS", "11")
    monkeypatch.setenv("PUBLIC_URL", "https://auth.example.com")

    settings = build()

    assert (settings.is_production, settings.bcrypt_rounds, settings.signing_key()) == (
        True,
        11,
        key,
    )


def test_secret_key_is_not_shown_in_repr() -> None:
    key = secrets.token_hex(32)

    settings = build(secret_key=key)

    assert key not in repr(settings)
    assert key not in str(settings.model_dump())


def _import_app_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    environment.update(PYTHONPATH=str(PROJECT_ROOT), **env)
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", "import app.main"],
        cwd=tmp_path,  # no .env here
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_app_refuses_to_start_in_production_without_secret_key(tmp_path: Path) -> None:
    result = _import_app_main(tmp_path, APP_ENV="production", BCRYPT_ROUNDS="12")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_app_starts_in_production_with_a_secret_key(tmp_path: Path) -> None:
    result = _import_app_main(
        tmp_path,
        APP_ENV="production",
        BCRYPT_ROUNDS="12",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        PUBLIC_URL="https://auth.example.com",
    )

    assert result.returncode == 0, result.stderr


def test_app_refuses_to_start_in_production_without_public_url(tmp_path: Path) -> None:
    result = _import_app_main(
        tmp_path, APP_ENV="production", BCRYPT_ROUNDS="12", SECRET_KEY=secrets.token_hex(32)
    )

    assert result.returncode != 0
    assert "PUBLIC_URL is required when APP_ENV=production" in result.stderr


@pytest.mark.parametrize("value", ["*", "10.0.0.0/8,*", "proxy.internal", "10.0.0.0/33"])
def test_trusted_proxies_must_be_addresses_or_ranges(value: str) -> None:
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        build(trusted_proxies=value)


def test_trusted_proxies_are_read_as_a_comma_separated_list_in_canonical_form() -> None:
    settings = build(trusted_proxies="10.1.2.3/8, 127.0.0.1 ,2001:DB8::1")

    assert settings.trusted_proxies == ["10.0.0.0/8", "127.0.0.1", "2001:db8::1"]


def test_no_proxy_is_trusted_by_default() -> None:
    assert build().trusted_proxies == []
