"""Domain errors: each carries its HTTP status and a stable machine-readable code.

The core's codes are the ErrorCode enum; a plugin adds its own by subclassing PluginError
with a `code` string of its own, which also lists it in the API docs' ErrorBody.
"""

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ErrorCode(StrEnum):
    REGISTER_USER_ALREADY_EXISTS = "REGISTER_USER_ALREADY_EXISTS"
    REGISTER_INVALID_PASSWORD = "REGISTER_INVALID_PASSWORD"
    LOGIN_BAD_CREDENTIALS = "LOGIN_BAD_CREDENTIALS"
    LOGIN_SECOND_STEP_REQUIRED = "LOGIN_SECOND_STEP_REQUIRED"
    OAUTH_INVALID_REQUEST = "OAUTH_INVALID_REQUEST"
    OAUTH_INVALID_CLIENT = "OAUTH_INVALID_CLIENT"
    OAUTH_UNSUPPORTED_GRANT_TYPE = "OAUTH_UNSUPPORTED_GRANT_TYPE"
    CURRENT_PASSWORD_REQUIRED = "CURRENT_PASSWORD_REQUIRED"
    CURRENT_PASSWORD_INVALID = "CURRENT_PASSWORD_INVALID"
    UPDATE_USER_EMAIL_ALREADY_EXISTS = "UPDATE_USER_EMAIL_ALREADY_EXISTS"
    UPDATE_USER_INVALID_PASSWORD = "UPDATE_USER_INVALID_PASSWORD"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    ADMIN_CANNOT_MODIFY_SELF = "ADMIN_CANNOT_MODIFY_SELF"
    ADMIN_CANNOT_CHANGE_OWN_CREDENTIALS = "ADMIN_CANNOT_CHANGE_OWN_CREDENTIALS"
    ADMIN_USER_INACTIVE = "ADMIN_USER_INACTIVE"
    LAST_SUPERUSER = "LAST_SUPERUSER"
    REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    ROLE_ALREADY_EXISTS = "ROLE_ALREADY_EXISTS"
    ROLE_NOT_FOUND = "ROLE_NOT_FOUND"
    ROLES_UNKNOWN = "ROLES_UNKNOWN"
    CSRF_CHECK_FAILED = "CSRF_CHECK_FAILED"
    RESET_PASSWORD_BAD_TOKEN = "RESET_PASSWORD_BAD_TOKEN"
    RESET_PASSWORD_INVALID_PASSWORD = "RESET_PASSWORD_INVALID_PASSWORD"
    VERIFY_USER_BAD_TOKEN = "VERIFY_USER_BAD_TOKEN"
    SERVICE_KEY_INVALID = "SERVICE_KEY_INVALID"
    SERVICE_KEY_NOT_FOUND = "SERVICE_KEY_NOT_FOUND"
    SERVICE_KEY_NAME_TAKEN = "SERVICE_KEY_NAME_TAKEN"
    INTROSPECTION_INVALID_REQUEST = "INTROSPECTION_INVALID_REQUEST"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    REQUEST_HEADERS_TOO_LARGE = "REQUEST_HEADERS_TOO_LARGE"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    CORS_REQUEST_REFUSED = "CORS_REQUEST_REFUSED"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    code: str = Field(description="A stable machine-readable code (the list: `known_codes`).")
    message: str


class FieldError(BaseModel):
    field: str
    message: str


class PasswordErrorBody(ErrorBody):
    reason: str = Field(
        description="Why the password was refused: too_short, too_long, invisible, "
        "contains_email, contains_service_name, common or too_guessable."
    )


class OAuthErrorBody(ErrorBody):
    error: str = Field(
        description="RFC 6749 §5.2's error (`invalid_request`, `invalid_client`, "
        "`invalid_grant`, `unsupported_grant_type`, `temporarily_unavailable`) or, for the "
        "device code grant, RFC 8628's (`authorization_pending`, `slow_down`, "
        "`access_denied`, `expired_token`)."
    )
    error_description: str = Field(description="The message, for a person.")


class UnknownRolesBody(ErrorBody):
    roles: list[str] = Field(description="The names that are no role, sorted.")


class ValidationErrorBody(ErrorBody):
    errors: list[FieldError]


class AppError(Exception):
    """An error a client can act on; rendered as `{"code", "message"}` with its status."""

    status_code: int = 400
    code: str  # an ErrorCode for the core's errors
    message: str

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

    @property
    def extra(self) -> dict[str, str]:
        """More machine-readable fields for the body, next to `code` and `message`."""
        return {}

    @property
    def headers(self) -> dict[str, str] | None:
        """Headers the answer carries (Retry-After, ...)."""
        return None

    @classmethod
    def openapi(cls) -> dict[int | str, dict[str, Any]]:
        """The `responses=` entry that documents this error on a route."""
        example = {"code": cls.code, "message": cls.message}
        return {
            cls.status_code: {
                "model": ErrorBody,
                "description": cls.message,
                "content": {"application/json": {"example": example}},
            }
        }


_plugin_codes: dict[str, type["PluginError"]] = {}


class PluginError(AppError):
    """A plugin's own error: subclass it with a `code` of its own (prefix it with the
    plugin's name, e.g. `QR_LOGIN_...`); the same JSON shape and docs as the core's."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        taken = _plugin_codes.get(code)
        # The same class imported again (a test reloading its module) keeps its code.
        if code in set(ErrorCode) or (
            taken is not None
            and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__)
        ):
            raise ValueError(f"Error code {code!r} is already taken")
        _plugin_codes[code] = cls


def known_codes() -> list[str]:
    """Every error code a client can get: the core's, then those of loaded plugins."""
    return [*ErrorCode, *sorted(_plugin_codes)]


def responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """Merge several errors into one `responses=` mapping (same status: first wins)."""
    merged: dict[int | str, dict[str, Any]] = {}
    for err in reversed(errors):
        merged.update(err.openapi())
    return merged


class UserAlreadyExists(AppError):
    code = ErrorCode.REGISTER_USER_ALREADY_EXISTS
    message = "An account with this email already exists."


class PasswordRefused(AppError):
    """A password the policy refuses; `reason` is a stable code for the frontend."""

    code: ErrorCode
    message = "The password does not meet the password policy."
    reason = "too_short"  # the example in the API docs; each instance carries its own

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason

    @property
    def extra(self) -> dict[str, str]:
        return {"reason": self.reason}

    @classmethod
    def openapi(cls) -> dict[int | str, dict[str, Any]]:
        example = {"code": cls.code, "message": cls.message, "reason": cls.reason}
        return {
            cls.status_code: {
                "model": PasswordErrorBody,
                "description": cls.message,
                "content": {"application/json": {"example": example}},
            }
        }


class InvalidPassword(PasswordRefused):
    code = ErrorCode.REGISTER_INVALID_PASSWORD


class BadCredentials(AppError):
    code = ErrorCode.LOGIN_BAD_CREDENTIALS
    message = "Incorrect email or password."


class SecondStepRequired(AppError):
    """The password was right, but the account asks for a second step that the OAuth2
    password form (the API docs' Authorize dialog) has no room for."""

    code = ErrorCode.LOGIN_SECOND_STEP_REQUIRED
    message = (
        "This account uses two-step verification, which this form can't ask for: sign in "
        "with JSON at POST /v1/users/login, then finish with the step it names."
    )


class CurrentPasswordRequired(AppError):
    code = ErrorCode.CURRENT_PASSWORD_REQUIRED
    message = "Enter your current password to make this change."


class CurrentPasswordInvalid(AppError):
    code = ErrorCode.CURRENT_PASSWORD_INVALID
    message = "The current password is incorrect."


class EmailTaken(AppError):
    code = ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS
    message = "Another account already uses this email."


class InvalidNewPassword(PasswordRefused):
    code = ErrorCode.UPDATE_USER_INVALID_PASSWORD
    message = "The new password does not meet the password policy."


class UserNotFound(AppError):
    status_code = 404
    code = ErrorCode.USER_NOT_FOUND
    message = "No user with this id."


class CannotModifySelf(AppError):
    code = ErrorCode.ADMIN_CANNOT_MODIFY_SELF
    message = "You can't deactivate, demote or delete your own account here."


class LastSuperuser(AppError):
    status_code = 409
    code = ErrorCode.LAST_SUPERUSER
    message = (
        "This is the last active superuser: make another account a superuser first, "
        "or nobody can manage accounts any more."
    )


class CannotChangeOwnCredentials(AppError):
    code = ErrorCode.ADMIN_CANNOT_CHANGE_OWN_CREDENTIALS
    message = (
        "Change your own email or password with PATCH /v1/users/me, "
        "which asks for your current password."
    )


class UnsupportedMediaType(AppError):
    status_code = 415
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    message = "Send JSON or an HTML form (application/x-www-form-urlencoded)."


class CorsRequestRefused(AppError):
    code = ErrorCode.CORS_REQUEST_REFUSED
    message = "This origin may not call the API from a browser with this method or these headers."


class RequestTooLarge(AppError):
    status_code = 413
    code = ErrorCode.REQUEST_TOO_LARGE
    message = "The request body is too large."


class RequestHeadersTooLarge(AppError):
    status_code = 431
    code = ErrorCode.REQUEST_HEADERS_TOO_LARGE
    message = "The request's headers are too large or too many."


class MalformedRequest(AppError):
    code = ErrorCode.MALFORMED_REQUEST
    message = "The request is not valid HTTP."


class RefreshTokenInvalid(AppError):
    status_code = 401
    code = ErrorCode.REFRESH_TOKEN_INVALID
    message = "Your session has ended. Sign in again."


class RefreshTokenReused(RefreshTokenInvalid):
    message = "This session was ended because its refresh token was used twice. Sign in again."


class UserInactive(AppError):
    status_code = 409
    code = ErrorCode.ADMIN_USER_INACTIVE
    message = "This account is deactivated: reactivate it first."


class SessionNotFound(AppError):
    status_code = 404
    code = ErrorCode.SESSION_NOT_FOUND
    message = "No active session with this id."


class CsrfCheckFailed(AppError):
    status_code = 403
    code = ErrorCode.CSRF_CHECK_FAILED
    message = "Cookie requests must come from this site's own pages."


class TooManyRequests(AppError):
    status_code = 429
    code = ErrorCode.TOO_MANY_REQUESTS
    message = "Too many attempts. Wait a moment and try again."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class ServiceBusy(AppError):
    """More work queued than the service takes on: refused at once rather than queued."""

    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    message = "The service is busy. Try again in a few seconds."
    retry_after_seconds = 2

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class SigningKeyUnavailable(AppError):
    """No signing key loaded yet (the database was down when this process started)."""

    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
    message = "The service is starting. Try again in a few seconds."
    retry_after_seconds = 2

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class ResetTokenInvalid(AppError):
    code = ErrorCode.RESET_PASSWORD_BAD_TOKEN
    message = "This password reset link is invalid, expired or already used. Ask for a new one."


class InvalidResetPassword(PasswordRefused):
    code = ErrorCode.RESET_PASSWORD_INVALID_PASSWORD
    message = "The new password does not meet the password policy."


class VerifyTokenInvalid(AppError):
    code = ErrorCode.VERIFY_USER_BAD_TOKEN
    message = "This verification link is invalid or expired. Ask for a new one."


class ServiceKeyInvalid(AppError):
    """Token introspection without a live service key (RFC 6750's challenge in the header)."""

    status_code = 401
    code = ErrorCode.SERVICE_KEY_INVALID
    message = "Send a live service key: Authorization: Bearer sk_..."

    def __init__(self, message: str | None = None, *, presented: bool = True) -> None:
        super().__init__(message)
        self.presented = presented

    @property
    def headers(self) -> dict[str, str] | None:
        # RFC 6750, 3.1: no error code when the request had no credentials at all.
        error = ', error="invalid_token"' if self.presented else ""
        return {"WWW-Authenticate": f'Bearer realm="introspection"{error}'}


class ServiceKeyNotFound(AppError):
    status_code = 404
    code = ErrorCode.SERVICE_KEY_NOT_FOUND
    message = "No live service key with this id."


class ServiceKeyNameTaken(AppError):
    code = ErrorCode.SERVICE_KEY_NAME_TAKEN
    message = "A live service key already has this name: pick another, or revoke that key first."


class IntrospectionInvalidRequest(AppError):
    """A request RFC 7662 can't answer; `error` is OAuth's word for it (RFC 6749, 5.2)."""

    code = ErrorCode.INTROSPECTION_INVALID_REQUEST
    message = "Send one `token` in an application/x-www-form-urlencoded body."

    @property
    def extra(self) -> dict[str, str]:
        return {"error": "invalid_request"}


# RFC 6749 §5.2: error_description is printable ASCII without `"` and `\\`.
_NOT_IN_DESCRIPTIONS = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class OAuthError(AppError):
    """An answer of the OAuth 2.0 endpoints: RFC 6749 §5.2's `error` and
    `error_description` beside our `code` and `message`. `OAuthError.of` gives any other
    error that shape, so OAuth clients (which look for `error`) see every failure."""

    error: str = "invalid_request"

    @property
    def extra(self) -> dict[str, str]:
        return {"error": self.error, "error_description": oauth_description(self.message)}

    @classmethod
    def of(cls, exc: AppError, *, keep_status: bool = False) -> "OAuthError":
        """`exc` as an OAuth error: its code, message and headers, the RFC's `error` for it,
        and (unless `keep_status`) the status the token endpoint answers it with: 400, but
        401 for a client we refuse and the status of limits and load shedding."""
        if isinstance(exc, OAuthError):
            return exc
        error = _oauth_error_name(type(exc))
        status = exc.status_code
        if not keep_status and status not in _KEPT_STATUSES:
            status = 400
        wrapped = _WrappedOAuthError(exc.message)
        wrapped.code, wrapped.status_code, wrapped.error = exc.code, status, error
        wrapped.cause = exc
        return wrapped

    @classmethod
    def openapi(cls) -> dict[int | str, dict[str, Any]]:
        return oauth_responses(cls)


class _WrappedOAuthError(OAuthError):
    cause: AppError

    @property
    def extra(self) -> dict[str, str]:
        return {**self.cause.extra, **super().extra}

    @property
    def headers(self) -> dict[str, str] | None:
        return self.cause.headers


def oauth_description(message: str) -> str:
    return _NOT_IN_DESCRIPTIONS.sub("", message.replace('"', "'"))


def _oauth_error_name(kind: type[AppError]) -> str:
    named = getattr(kind, "error", None)  # a device grant's errors name theirs (RFC 8628)
    if isinstance(named, str):
        return named
    for base, error in _OAUTH_ERRORS.items():
        if issubclass(kind, base):
            return error
    return "invalid_request"


def oauth_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for OAuth errors: one entry per status, every error as an example."""
    merged: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        error = _oauth_error_name(err)
        status = err.status_code if err.status_code in (401, *_KEPT_STATUSES) else 400
        entry = merged.setdefault(
            status,
            {
                "model": OAuthErrorBody,
                "description": _OAUTH_STATUS_DESCRIPTIONS.get(status, err.message),
                "content": {"application/json": {"examples": {}}},
            },
        )
        entry["content"]["application/json"]["examples"][str(err.code)] = {
            "summary": err.message,
            "value": {
                "code": err.code,
                "message": err.message,
                "error": error,
                "error_description": oauth_description(err.message),
            },
        }
        if err.status_code in _KEPT_STATUSES:
            entry["headers"] = RETRY_AFTER
    return merged


_OAUTH_STATUS_DESCRIPTIONS = {
    400: "Refused (RFC 6749 §5.2): `error` says what kind of failure, `code` exactly which.",
    429: "Too many attempts (`temporarily_unavailable`): retry after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


class InvalidRequest(OAuthError):
    code = ErrorCode.OAUTH_INVALID_REQUEST
    message = "The request is missing a parameter or is malformed."


class InvalidClient(OAuthError):
    """Public clients only: a client secret (or other client credentials) can't be checked."""

    status_code = 401
    code = ErrorCode.OAUTH_INVALID_CLIENT
    error = "invalid_client"
    message = (
        "This service has public clients only: send client_id alone, with no client secret "
        "or other client authentication."
    )

    @property
    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": 'Basic realm="oauth"'}


class UnsupportedGrantType(OAuthError):
    code = ErrorCode.OAUTH_UNSUPPORTED_GRANT_TYPE
    error = "unsupported_grant_type"
    message = "This grant_type is not served here (or its plugin is not enabled)."


# Ours, in RFC 6749's words: a failed sign-in or refresh is `invalid_grant` (our status
# for a dead refresh token is 401, the RFC's is 400); limits and load shedding keep their
# status and Retry-After.
_OAUTH_ERRORS: dict[type[AppError], str] = {
    BadCredentials: "invalid_grant",
    SecondStepRequired: "invalid_grant",
    RefreshTokenInvalid: "invalid_grant",
    TooManyRequests: "temporarily_unavailable",
    ServiceBusy: "temporarily_unavailable",
}
_KEPT_STATUSES = (413, 429, 503)


class RoleAlreadyExists(AppError):
    status_code = 409
    code = ErrorCode.ROLE_ALREADY_EXISTS
    message = "A role with this name already exists."


class RoleNotFound(AppError):
    status_code = 404
    code = ErrorCode.ROLE_NOT_FOUND
    message = "No role with this name."


class UnknownRoles(AppError):
    """Role names given to a user that are no role; `roles` lists them."""

    code = ErrorCode.ROLES_UNKNOWN
    message = "Some of these roles don't exist: create them first."
    roles: list[str] = ["editr"]  # the example in the API docs; each instance has its own

    def __init__(self, roles: list[str]) -> None:
        super().__init__()
        self.roles = sorted(roles)

    @property
    def extra(self) -> dict[str, Any]:  # a list, where the others have strings
        return {"roles": self.roles}

    @classmethod
    def openapi(cls) -> dict[int | str, dict[str, Any]]:
        example = {"code": cls.code, "message": cls.message, "roles": cls.roles}
        return {
            cls.status_code: {
                "model": UnknownRolesBody,
                "description": cls.message,
                "content": {"application/json": {"example": example}},
            }
        }


class RoleRequired(AppError):
    """A route guarded by `require_roles` refused a user without one of its roles."""

    status_code = 403
    code = ErrorCode.FORBIDDEN
    message = "This needs a role your account doesn't have."
