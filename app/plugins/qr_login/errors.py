"""QR sign-in's errors: `{"code", "message"}` like the core's; the token endpoint's also
carry RFC 8628's `error`, so any device-grant client understands them."""

from typing import Any, ClassVar

from pydantic import Field

from app.plugins.api import ErrorBody, PluginError


class RequestNotFound(PluginError):
    """One answer for unknown, malformed, expired, decided and used codes alike."""

    status_code = 404
    code = "QR_LOGIN_REQUEST_NOT_FOUND"
    message = "No sign-in request is waiting for this code. It may have expired or been answered."


class TokenErrorBody(ErrorBody):
    error: str = Field(description="RFC 8628's error code.")


class TokenError(PluginError):
    """A poll of `POST /v1/qr-login/token` that hands out no tokens (status 400)."""

    error: ClassVar[str]

    @property
    def extra(self) -> dict[str, str]:
        return {"error": self.error}

    @classmethod
    def all_documented(cls) -> dict[int | str, dict[str, Any]]:
        """Every token error under its one status, one example each."""
        examples = {
            error.error: {
                "summary": error.message,
                "value": {"code": error.code, "message": error.message, "error": error.error},
            }
            for error in TOKEN_ERRORS
        }
        return {
            400: {
                "model": TokenErrorBody,
                "description": "Not (or no longer) approved: `error` says what to do.",
                "content": {"application/json": {"examples": examples}},
            }
        }


class AuthorizationPending(TokenError):
    code = "QR_LOGIN_AUTHORIZATION_PENDING"
    error = "authorization_pending"
    message = "Waiting for the request to be approved: poll again after `interval` seconds."


class SlowDown(TokenError):
    code = "QR_LOGIN_SLOW_DOWN"
    error = "slow_down"
    message = "Polled faster than `interval`: wait 5 seconds longer between polls."


class AccessDenied(TokenError):
    code = "QR_LOGIN_ACCESS_DENIED"
    error = "access_denied"
    message = "The request was denied."


class ExpiredToken(TokenError):
    code = "QR_LOGIN_EXPIRED_TOKEN"
    error = "expired_token"
    message = "The request expired. Start a new one."


class InvalidGrant(TokenError):
    code = "QR_LOGIN_INVALID_GRANT"
    error = "invalid_grant"
    message = "Unknown device code, or its tokens were already handed out."


class UnsupportedGrantType(TokenError):
    code = "QR_LOGIN_UNSUPPORTED_GRANT_TYPE"
    error = "unsupported_grant_type"
    message = "Only grant_type urn:ietf:params:oauth:grant-type:device_code is served here."


TOKEN_ERRORS: tuple[type[TokenError], ...] = (
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    InvalidGrant,
    UnsupportedGrantType,
)
