"""Two-step sign-in: a code from an authenticator app (TOTP, RFC 6238) after the password,
or a one-time recovery code. See README, "Two-step verification"."""

from app.plugins.totp.plugin import plugin

__all__ = ["plugin"]
