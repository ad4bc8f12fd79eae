"""Two-step sign-in settings, read from TOTP_* variables."""

import base64
import binascii
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from app.plugins.api import PluginSettings, rate_limit

RateLimit = Annotated[str, AfterValidator(rate_limit)]
KEY_BYTES = 32  # AES-256


class TotpSettings(PluginSettings):
    model_config = SettingsConfigDict(env_prefix="TOTP_", env_file=".env", extra="ignore")

    # The name authenticator apps show next to the code.
    issuer: str = Field(default="Auth service", min_length=1, max_length=64, pattern=r"^[^:]+$")
    # 32 random bytes, base64url (`python -c "import secrets; print(secrets.token_urlsafe(32))"`).
    # Unset: derived from SECRET_KEY, which then must not change while secrets are stored.
    encryption_key: SecretStr | None = None
    mfa_token_ttl_seconds: int = Field(default=300, ge=1, le=900)
    max_attempts: int = Field(default=5, ge=1, le=20)  # wrong codes one mfa_token survives
    rate_limit_attempts: RateLimit = "10/minute"  # second steps (and activations) per account
    purge_interval_seconds: int = Field(default=300, ge=1)

    def key_bytes(self) -> bytes | None:
        if self.encryption_key is None:
            return None
        return decode_key(self.encryption_key.get_secret_value())

    @field_validator("encryption_key")
    @classmethod
    def key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(decode_key(value.get_secret_value()) or b"") != KEY_BYTES:
            raise ValueError(f"TOTP_ENCRYPTION_KEY must be {KEY_BYTES} bytes, base64url-encoded")
        return value


def decode_key(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
