"""Settings, read once from the environment (and an optional `.env` file)."""

import importlib.util
import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
MIN_SECRET_KEY_BYTES = 32
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:8000"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting must not print the others (SECRET_KEY,
    # SMTP_PASSWORD) into the start-up error, which ends up in the platform's logs.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    app_env: Literal["development", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{DATA_DIR / 'app.db'}"
    database_pool_size: int = Field(default=10, ge=1, le=100)
    # A fixed pool by default: connections past the pool size are closed as soon as they
    # go back, so under steady load above it a worker kept opening and closing them (at 16
    # concurrent token checks, one request in 30 opened one; bench/results.md).
    database_max_overflow: int = Field(default=0, ge=0, le=100)
    # Every wait on the database is bounded, so a database that stops answering costs a
    # client a 503 after seconds, never a hung request (see "What a client sees ...").
    database_pool_timeout: float = Field(default=3, gt=0, le=60)
    database_connect_timeout_seconds: float = Field(default=5, gt=0, le=60)
    database_command_timeout_seconds: float = Field(default=5, gt=0, le=600)
    secret_key: SecretStr | None = None
    secret_key_file: Path = DATA_DIR / "secret_key"
    access_token_lifetime_seconds: int = Field(default=900, ge=1, le=3600)
    refresh_token_lifetime_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=120)
    session_purge_interval_seconds: int = Field(default=3600, ge=1)
    audit_retention_days: int = Field(default=180, ge=1)
    cookie_secure: bool | None = None  # default: on in production
    jwt_audience: str = "auth-service:access"
    jwt_issuer: str = "auth-service"
    # Access tokens: EdDSA (Ed25519) or ES256 keys kept in the database; HS256 (SECRET_KEY,
    # which other services would then need) only when asked for.
    jwt_algorithm: Literal["EdDSA", "ES256", "HS256"] = "EdDSA"
    signing_key_rotation_days: int = Field(default=30, ge=1, le=3650)
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    hash_concurrency: int = Field(default=os.cpu_count() or 2, ge=1, le=64)
    hash_queue_limit: int = Field(default=64, ge=1, le=10_000)  # hashes running + waiting
    service_name: str = Field(default="Auth service", min_length=1, max_length=100)
    # zxcvbn score (0-4) a new password needs; 0 turns that check off (the others stay).
    password_min_score: int = Field(default=2, ge=0, le=4)
    shutdown_timeout_seconds: int = Field(default=10, ge=1, le=300)  # also in the Procfile
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Request line and headers together; the same cap as h11's default and Node's.
    max_header_bytes: int = Field(default=16 * 1024, ge=4096, le=1024 * 1024)
    max_header_count: int = Field(default=100, ge=10, le=10_000)
    header_timeout_seconds: float = Field(default=10, gt=0, le=300)
    # Proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs); empty: none.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    rate_limits_enabled: bool = True
    rate_limit_storage_url: str = "memory://"  # redis://host:6379 to share across workers
    rate_limit_storage_timeout_seconds: float = Field(default=0.25, gt=0, le=10)
    rate_limit_login_failures: str = "10/minute"  # password guesses per account and address
    rate_limit_per_address: str = "60/minute"  # password-hashing requests per client address
    rate_limit_registrations: str = "50/hour"  # per client address
    rate_limit_emails: str = "5/hour"  # mails per recipient and requesting address
    rate_limit_emails_per_address: str = "20/hour"  # mails one address may cause, any recipient
    rate_limit_emails_per_recipient: str = "30/hour"  # flood cap, whoever asks
    rate_limit_service_key_failures: str = "30/minute"  # bad service keys per client address
    # Where emailed links and QR codes point. Production requires it (see below): the
    # default only suits a development server on this machine.
    public_url: str = DEVELOPMENT_PUBLIC_URL
    reset_token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400)
    verify_token_lifetime_seconds: int = Field(default=3 * 86400, ge=60)
    smtp_host: str | None = None  # unset: emails are written to the log (development)
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    mail_from: str = "Auth service <no-reply@localhost>"
    cors_origins: Annotated[list[str], NoDecode] = []
    plugins: Annotated[list[str], NoDecode] = []
    log_level: str = "INFO"
    log_format: Literal["json", "console"] | None = None  # default: json in production
    # /metrics answers loopback clients, and others that send this as a bearer token.
    metrics_token: SecretStr | None = None
    # OpenTelemetry tracing (app/core/tracing.py); the SDK reads its own OTEL_* variables.
    otel_enabled: bool = False

    @field_validator("cors_origins", "plugins", "trusted_proxies", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "rate_limit_login_failures",
        "rate_limit_per_address",
        "rate_limit_registrations",
        "rate_limit_emails",
        "rate_limit_emails_per_address",
        "rate_limit_emails_per_recipient",
        "rate_limit_service_key_failures",
    )
    @classmethod
    def rate_limit_parses(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit like '10/minute'") from None
        return value

    @field_validator("otel_enabled")
    @classmethod
    def _otel_installed(cls, enabled: bool) -> bool:
        # Tracing's packages are an opt-in install: every worker would otherwise carry
        # them (redis-py loads the SDK's metrics part whenever it can), tracing on or off.
        if enabled and not _installed("opentelemetry.sdk"):
            raise ValueError(
                "OTEL_ENABLED=true needs OpenTelemetry's packages: "
                "pip install -r requirements-otel.txt"
            )
        return enabled

    @field_validator("trusted_proxies")
    @classmethod
    def proxies_are_addresses(cls, value: list[str]) -> list[str]:
        if "*" in value:
            # uvicorn would then take the left-most, client-written X-Forwarded-For entry.
            raise ValueError(
                "TRUSTED_PROXIES='*' would let any client choose its address: "
                "list your proxies' addresses or ranges"
            )
        try:
            # Canonical spellings: uvicorn would take "10.1.2.3/8" (host bits set) for a
            # host name, not the network 10.0.0.0/8, and silently never match it.
            return [
                str(
                    ipaddress.ip_network(item, strict=False)
                    if "/" in item
                    else ipaddress.ip_address(item)
                )
                for item in value
            ]
        except ValueError as exc:
            raise ValueError(f"TRUSTED_PROXIES: {exc}") from None

    @field_validator("public_url")
    @classmethod
    def public_url_is_absolute(cls, value: str) -> str:
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                "PUBLIC_URL must be an absolute http(s) URL like https://auth.example.com"
            )
        if url.query or url.fragment or url.username or url.password:
            raise ValueError("PUBLIC_URL must have no query, fragment or credentials")
        return value

    @field_validator("secret_key")
    @classmethod
    def secret_key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def production_needs_real_secrets(self) -> "Settings":
        if self.is_production:
            if self.secret_key is None:
                raise ValueError("SECRET_KEY is required when APP_ENV=production")
            if self.bcrypt_rounds < 10:
                raise ValueError("BCRYPT_ROUNDS below 10 is not allowed in production")
            self._check_production_public_url()
        return self

    def _check_production_public_url(self) -> None:
        # Emailed links and QR codes carry tokens: pointing them at the development default
        # (or at plain http across a network) would send them nowhere, or in clear text.
        if "public_url" not in self.model_fields_set:
            raise ValueError(
                "PUBLIC_URL is required when APP_ENV=production: the https address people "
                "reach the service at, e.g. https://auth.example.com"
            )
        if not serves_production(self.public_url):
            raise ValueError(
                "PUBLIC_URL must be an https URL when APP_ENV=production "
                "(plain http only for localhost, 127.0.0.1 or ::1)"
            )

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def log_renderer(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "console"

    @property
    def secure_cookies(self) -> bool:
        return self.is_production if self.cookie_secure is None else self.cookie_secure

    def signing_key(self) -> str:
        """The JWT key: SECRET_KEY, or in development a random key kept in a local file."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _development_key(self.secret_key_file)


def serves_production(url: str) -> bool:
    """Whether links to `url` may go out in production: https, or plain http on this
    machine only (a trial, whose links work only here anyway)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


def _development_key(path: Path) -> str:
    # Kept on disk (git-ignored) so restarting the dev server doesn't log everyone out.
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            # link() publishes the finished file atomically and never replaces one that
            # another worker published first, so every worker reads the same whole key.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise ValueError(f"{path} does not hold a usable key: delete it to make a new one")
    return key


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package isn't there either
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
