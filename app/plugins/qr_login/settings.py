"""QR sign-in settings, read from QR_LOGIN_* variables."""

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_settings import SettingsConfigDict

from app.plugins.api import PluginSettings, rate_limit

RateLimit = Annotated[str, AfterValidator(rate_limit)]


class QrLoginSettings(PluginSettings):
    model_config = SettingsConfigDict(env_prefix="QR_LOGIN_", env_file=".env", extra="ignore")

    # Short: a code relayed by a phishing page (QRLJacking) is only good this long.
    ttl_seconds: int = Field(default=120, ge=30, le=300)
    interval_seconds: int = Field(default=2, ge=1, le=30)  # the polling pace asked of clients
    # Where phones reach the approve page (https://auth.example.com); unset: the URL the
    # requesting browser used.
    public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$")
    rate_limit_starts: RateLimit = "10/minute"  # per client address
    rate_limit_polls: RateLimit = "120/minute"  # per client address
    rate_limit_decisions: RateLimit = "30/minute"  # lookups, approvals, denials per user
    purge_interval_seconds: int = Field(default=60, ge=1)
    # Expired requests are kept a while, so a late poll hears expired_token, not invalid_grant.
    purge_after_seconds: int = Field(default=600, ge=0)
