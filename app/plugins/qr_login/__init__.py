"""Sign in on a computer by scanning a QR code with a phone that is already signed in
(the OAuth 2.0 Device Authorization Grant, RFC 8628). See README, "QR sign-in"."""

from app.plugins.qr_login.plugin import plugin

__all__ = ["plugin"]
