"""What every log line of a request carries (its id, and who is signed in), and the
structlog processors that add it and keep secrets out of the logs."""

import functools
import uuid
from contextvars import ContextVar

from asgi_correlation_id import correlation_id
from structlog.typing import EventDict, WrappedLogger

# Set by the current-user check once the access token is verified; each request runs in
# its own task, so its value never reaches another request's lines.
signed_in: ContextVar[tuple[str, str] | None] = ContextVar("signed_in", default=None)

REDACTED = "[redacted]"
# Substrings of key names whose values never belong in a log line.
SECRET_KEY_PARTS = ("password", "token", "secret", "authorization", "cookie")


def bind_user(user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """Name the signed-in user and session in the rest of this request's log lines."""
    signed_in.set((str(user_id), str(session_id)))


def mask_email(email: str) -> str:
    """`jane@example.com` -> `j***@example.com`: enough to tell accounts apart in a log."""
    local, at, domain = email.rpartition("@")
    if not at:
        return REDACTED
    return f"{local[:1]}***@{domain}"


def add_request_context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Processor: the request id and signed-in user, on every line logged during a request."""
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    user = signed_in.get()
    if user is not None:
        event_dict.setdefault("user_id", user[0])
        event_dict.setdefault("session_id", user[1])
    return event_dict


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Processor, the safety net: secrets by key name are dropped, emails masked."""
    for key, value in event_dict.items():
        treatment = _treatment(key)
        if treatment is _SECRET:
            event_dict[key] = REDACTED
        elif treatment is _EMAIL and isinstance(value, str):
            event_dict[key] = mask_email(value)
    return event_dict


_SECRET, _EMAIL = "secret", "email"


@functools.lru_cache(maxsize=1024)
def _treatment(key: str) -> str | None:
    # Cached: the same few key names come by on every line.
    name = key.lower()
    if any(part in name for part in SECRET_KEY_PARTS):
        return _SECRET
    return _EMAIL if name.endswith("email") else None
