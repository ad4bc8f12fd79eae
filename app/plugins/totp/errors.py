"""Two-step sign-in's errors: `{"code", "message"}` like the core's, codes prefixed TOTP_."""

from typing import Any

from app.plugins.api import ErrorBody, PluginError


class AlreadyEnabled(PluginError):
    status_code = 409
    code = "TOTP_ALREADY_ENABLED"
    message = "Two-step verification is already on. Turn it off first to set up a new app."


class NotEnrolled(PluginError):
    status_code = 409
    code = "TOTP_NOT_ENROLLED"
    message = "Start with POST /v1/mfa/totp/enroll: there is no secret to confirm."


class NotEnabled(PluginError):
    status_code = 409
    code = "TOTP_NOT_ENABLED"
    message = "Two-step verification is not on for this account."


class WrongCode(PluginError):
    """A wrong (or replayed) authenticator code at the second step of a login."""

    status_code = 401
    code = "TOTP_CODE_INVALID"
    message = "That code is wrong or was already used. Wait for the next code and try again."


class WrongRecoveryCode(WrongCode):
    """A wrong or spent recovery code: the same code as a wrong authenticator code (the
    caller knows which it sent), in words that fit, since recovery codes don't change."""

    message = (
        "That recovery code is wrong or was already used: each one works once. "
        "Check it against your saved codes, or try another."
    )


class WrongActivationCode(WrongCode):
    """The same code as a login's wrong code, but 400: the caller is signed in."""

    status_code = 400
    message = "That code is not the one your app shows now. Check the app's clock and try again."


class MfaTokenInvalid(PluginError):
    """One answer for unknown, expired, used and exhausted tokens alike."""

    status_code = 401
    code = "TOTP_MFA_TOKEN_INVALID"
    message = "This sign-in has expired or was already finished. Sign in with your password again."


class CannotResetOwn(PluginError):
    code = "TOTP_ADMIN_CANNOT_RESET_OWN"
    message = (
        "Turn off your own two-step verification at DELETE /v1/mfa/totp, "
        "which asks for your password."
    )


class SecretUnreadable(PluginError):
    """The stored secret doesn't open: TOTP_ENCRYPTION_KEY or SECRET_KEY changed."""

    status_code = 503
    code = "TOTP_SECRET_UNREADABLE"
    message = (
        "Two-step verification can't be checked right now. Use a recovery code, "
        "or ask an administrator."
    )


def documented(*found: type[PluginError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for errors that share a status: one entry, an example each."""
    grouped: dict[int, list[type[PluginError]]] = {}
    for error in found:
        grouped.setdefault(error.status_code, []).append(error)
    return {
        status: {
            "model": ErrorBody,
            "description": " Or: ".join(error.message for error in same),
            "content": {"application/json": {"examples": examples(same)}},
        }
        for status, same in grouped.items()
    }


def examples(found: list[type[PluginError]]) -> dict[str, dict[str, Any]]:
    """One example each, named by its code (and its class, for a code shared by several)."""
    codes = [error.code for error in found]
    return {
        (error.code if codes.count(error.code) == 1 else f"{error.code} ({error.__name__})"): {
            "summary": error.message,
            "value": {"code": error.code, "message": error.message},
        }
        for error in found
    }
