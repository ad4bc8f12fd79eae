"""Typed security events on one bus: the audit log, notifications and plugins all hear them.

Two kinds of handler:
- in-transaction handlers run right after the change, inside its transaction (the audit
  log writes its row there), so a handler that raises undoes the change and its record;
- after-commit handlers run once the change is committed (notification mails), never for
  a change that rolled back.

Events about an attempt that failed (a wrong password, a reused refresh token) are written
in a short transaction of their own, because the request's transaction will roll back.
"""

import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

logger = logging.getLogger(__name__)


class EventType(StrEnum):
    """The core's event types; a plugin adds its own with `plugin_event_type`."""

    REGISTERED = "registered"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"  # detail.reason: unknown_email, bad_password, inactive
    # Every new session, however it began: detail.method is "password", "qr", ...
    SESSION_STARTED = "session_started"
    LOGOUT = "logout"
    SESSION_REVOKED = "session_revoked"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105
    CURRENT_PASSWORD_FAILED = "current_password_failed"  # noqa: S105
    PASSWORD_CHANGED = "password_changed"  # noqa: S105
    PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    EMAIL_CHANGED = "email_changed"
    EMAIL_VERIFIED = "email_verified"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    ACCOUNT_DELETED = "account_deleted"
    ADMIN_USER_UPDATED = "admin_user_updated"
    ADMIN_USER_DELETED = "admin_user_deleted"
    SUPERUSER_CREATED = "superuser_created"
    # detail: service_key_id, name; user_id and actor_id are the admin (none from the CLI).
    SERVICE_KEY_CREATED = "service_key_created"
    SERVICE_KEY_REVOKED = "service_key_revoked"
    ROLE_CREATED = "role_created"  # no user_id; detail.name
    ROLE_DELETED = "role_deleted"  # no user_id; detail.name, detail.holders
    USER_ROLES_CHANGED = "user_roles_changed"  # detail.added, detail.removed, detail.roles


class PluginEventType(str):
    """An event type a plugin adds (made by `plugin_event_type`): a string like EventType's
    members, so the bus, the audit log and every subscriber treat both alike."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str.__str__(self)


AnyEventType = EventType | PluginEventType
# Interned, so a name declared twice is one object. Not the app's list of types: a process
# may import plugins an app doesn't enable (tests build several apps in one process); an
# app knows the types its enabled plugins list in `Plugin(event_types=...)`.
_plugin_event_types: dict[str, PluginEventType] = {}


def plugin_event_type(name: str) -> PluginEventType:
    """The event type `name` (snake_case, e.g. `mfa_enabled`), declared by a plugin; the
    same name declared again is the same type (so another plugin can subscribe to it)."""
    if name in set(EventType):
        raise ValueError(f"Event type {name!r} is the core's")
    if not name.isidentifier() or not name.islower():
        raise ValueError(f"Event type {name!r} must be snake_case")
    return _plugin_event_types.setdefault(name, PluginEventType(name))


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SecurityEvent:
    """Something that happened to an account. `detail` is small and JSON-able and never
    holds a password, token or secret."""

    type: AnyEventType
    user_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None  # who did it, when signed in (an admin, the user)
    session_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=utcnow)


# After these, no sign-in of the account still in progress (a second step waiting for its
# code, a QR request approved but not yet collected) may finish: the password or email
# changed, the account was switched off, or it was signed out everywhere. Its sessions end
# in the same transaction; plugins that hold such sign-ins end them there too.
ENDS_SIGN_INS_IN_PROGRESS = (
    EventType.PASSWORD_CHANGED,
    EventType.PASSWORD_RESET,
    EventType.EMAIL_CHANGED,
    EventType.ACCOUNT_DEACTIVATED,
    EventType.SESSION_REVOKED,  # only "everywhere" and "everywhere else", see below
)


def ends_sign_ins_in_progress(event: SecurityEvent) -> bool:
    """Whether `event` (one of ENDS_SIGN_INS_IN_PROGRESS) ends the account's sign-ins in
    progress: every one of them but for a single session revoked."""
    if event.type == EventType.SESSION_REVOKED:
        return bool(event.detail.get("all") or event.detail.get("all_but_current"))
    return event.type in ENDS_SIGN_INS_IN_PROGRESS


Handler = Callable[[SecurityEvent, AsyncSession], Awaitable[None]]
AfterCommitHandler = Callable[[SecurityEvent], Awaitable[None]]
Scheduler = Callable[[Callable[[], Awaitable[None]]], None]


class EventBus:
    """The app's one bus; subscribe to a type, or to all (`type=None`)."""

    def __init__(self) -> None:
        self._handlers: defaultdict[AnyEventType | None, list[Handler]] = defaultdict(list)
        self._after_commit: defaultdict[AnyEventType | None, list[AfterCommitHandler]] = (
            defaultdict(list)
        )

    def subscribe(self, type: AnyEventType | None, handler: Handler) -> None:
        """`handler(event, session)` runs inside the change's transaction: write with the
        session, never commit; raising undoes the change."""
        self._handlers[type].append(handler)

    def subscribe_after_commit(
        self, type: AnyEventType | None, handler: AfterCommitHandler
    ) -> None:
        """`handler(event)` runs after the change committed; its errors are logged."""
        self._after_commit[type].append(handler)

    def bind(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        ip_address: str | None = None,
        user_agent: str | None = None,
        schedule: Scheduler | None = None,
    ) -> "Emitter":
        """An emitter for one unit of work (a request, a CLI command)."""
        return Emitter(self, session, sessionmaker, ip_address, user_agent, schedule)

    async def dispatch(self, event: SecurityEvent, session: AsyncSession) -> None:
        for handler in (*self._handlers[None], *self._handlers[event.type]):
            await handler(event, session)

    def has_after_commit(self, event: SecurityEvent) -> bool:
        return bool(self._after_commit[None] or self._after_commit[event.type])

    async def dispatch_after_commit(self, event: SecurityEvent) -> None:
        for handler in (*self._after_commit[None], *self._after_commit[event.type]):
            try:
                await handler(event)
            except Exception:  # the change is committed; a failed side effect is only logged
                logger.exception("After-commit handler failed for %s", event.type)


class Emitter:
    """Emits events for one unit of work, filling in where the request came from."""

    def __init__(
        self,
        bus: EventBus,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        ip_address: str | None,
        user_agent: str | None,
        schedule: Scheduler | None,
    ) -> None:
        self.bus = bus
        self.session = session
        self.sessionmaker = sessionmaker
        self.ip_address = ip_address
        self.user_agent = user_agent
        self._schedule = schedule
        self._committed_later: list[SecurityEvent] = []

    def event(self, type: AnyEventType, **fields: Any) -> SecurityEvent:
        fields.setdefault("ip_address", self.ip_address)
        fields.setdefault("user_agent", self.user_agent)
        return SecurityEvent(type=type, **fields)

    async def emit(self, type: AnyEventType, **fields: Any) -> SecurityEvent:
        """A change that succeeded: handled inside its transaction, delivered after commit."""
        event = self.event(type, **fields)
        await self.bus.dispatch(event, self.session)
        if self.bus.has_after_commit(event):
            if not self._committed_later and self._schedule is not None:
                self._schedule(self.deliver_committed)
            self._committed_later.append(event)
        return event

    async def emit_failure(self, type: AnyEventType, **fields: Any) -> SecurityEvent:
        """An attempt that failed: its request rolls back, so this is committed on its own."""
        event = self.event(type, **fields)
        await self._record_alone(event)
        return event

    async def emit_after_answer(self, type: AnyEventType, **fields: Any) -> SecurityEvent:
        """An event that must not cost its request time (a reset link asked for): committed
        on its own once the answer is sent, so the answer's timing can't tell that there
        was an account to record it for. Without a scheduler (the CLI), at once."""
        event = self.event(type, **fields)
        if self._schedule is None:
            await self._record_alone(event)
        else:
            self._schedule(functools.partial(self._record_alone, event))
        return event

    async def _record_alone(self, event: SecurityEvent) -> None:
        async with self.sessionmaker() as session, session.begin():
            await self.bus.dispatch(event, session)
        await self.bus.dispatch_after_commit(event)

    async def deliver_committed(self) -> None:
        """Run after-commit handlers; call only once the unit of work has committed."""
        events, self._committed_later = self._committed_later, []
        for event in events:
            await self.bus.dispatch_after_commit(event)
