"""Sessions that can end: login starts one, refresh rotates its token, logout revokes it.

Access JWTs carry the session id (`sid`) and every authenticated request checks the
session in the same query that loads the user, so revocation takes effect at once.
A refresh token presented again after it was rotated means two parties hold it: unless
it is within a few seconds of the rotation (two tabs refreshing together), the whole
session is revoked. Inside that window it gets the very successor it got the first time
(successors are derived from the token with the server key), so a second holder can only
join the one chain, never start a parallel one that reuse detection would not see.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.core.config import Settings
from app.core.events import Emitter, EventType
from app.core.metrics import REFRESH_REUSE
from app.core.security import new_refresh_token, refresh_token_digest, refresh_token_successor
from app.db.crud import session as crud
from app.db.models import AuthSession, User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Client:
    """Where a request came from, as shown in the sessions list."""

    user_agent: str | None
    ip_address: str | None


@dataclass(frozen=True)
class Grant:
    """What a login or refresh hands out (the access token is signed by the caller)."""

    user: User
    session_id: uuid.UUID
    refresh_token: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SessionService:
    def __init__(
        self,
        session: AsyncSession,
        settings: Settings,
        events: Emitter | None = None,
        *,
        key: str | None = None,
    ) -> None:
        self.session = session
        self.settings = settings
        self.events = events
        # Derives refresh-token successors; the app passes the key it loaded at start-up,
        # so a refresh doesn't read the development key file again.
        self._key = key
        self.lifetime = timedelta(seconds=settings.refresh_token_lifetime_seconds)
        self.grace = timedelta(seconds=settings.refresh_reuse_grace_seconds)

    async def start(self, user: User, client: Client, *, method: str = "password") -> Grant:
        """A new session; `method` says how it began (the devices list shows it)."""
        now = utcnow()
        auth_session = await crud.create_session(
            self.session,
            user_id=user.id,
            now=now,
            expires_at=now + self.lifetime,
            user_agent=client.user_agent[:512] if client.user_agent else None,
            ip_address=client.ip_address,
            method=method,
        )
        await crud.record_sign_in(self.session, user_id=user.id, now=now)
        if self.events is not None:
            await self.events.emit(
                EventType.SESSION_STARTED,
                user_id=user.id,
                session_id=auth_session.id,
                ip_address=client.ip_address,
                user_agent=client.user_agent,
                detail={"method": method},
            )
        return Grant(user, auth_session.id, await self._new_token(auth_session, now))

    async def refresh(self, token: str, client: Client) -> Grant:
        """Trade a refresh token for a new one; raises RefreshTokenInvalid."""
        now = utcnow()
        found = await crud.lock_refresh_token(self.session, digest=refresh_token_digest(token))
        if found is None:
            raise errors.RefreshTokenInvalid()
        stored, auth_session, user = found
        if (
            auth_session.revoked_at is not None
            or as_utc(auth_session.expires_at) <= now
            or as_utc(stored.expires_at) <= now
            or not user.is_active
        ):
            raise errors.RefreshTokenInvalid()
        if stored.rotated_at is not None and now - as_utc(stored.rotated_at) > self.grace:
            await crud.revoke_sessions(self.session, user_id=user.id, only=auth_session.id, now=now)
            # The request fails, but the revocation must outlive its rollback.
            await self.session.commit()
            if self.events is not None:
                await self.events.emit_failure(
                    EventType.REFRESH_TOKEN_REUSED, user_id=user.id, session_id=auth_session.id
                )
            REFRESH_REUSE.inc()
            raise errors.RefreshTokenReused()
        key = self._key or self.settings.signing_key()
        successor, digest = refresh_token_successor(key, token)
        if stored.rotated_at is None:
            stored.rotated_at = now
            await crud.add_refresh_token(
                self.session,
                session_id=auth_session.id,
                digest=digest,
                expires_at=now + self.lifetime,
            )
        # else: rotated moments ago; its successor is already stored, hand out the same one.
        auth_session.last_used_at = now
        auth_session.expires_at = now + self.lifetime
        if client.ip_address:
            auth_session.ip_address = client.ip_address
        return Grant(user, auth_session.id, successor)

    async def owner_of(self, token: str) -> AuthSession | None:
        """The live session a refresh token belongs to (for logging out with it)."""
        found = await crud.lock_refresh_token(self.session, digest=refresh_token_digest(token))
        return None if found is None else found[1]

    async def live_sessions(self, user: User) -> Sequence[AuthSession]:
        return await crud.list_live_sessions(self.session, user_id=user.id, now=utcnow())

    async def rename(
        self, user_id: uuid.UUID, session_id: uuid.UUID, name: str | None
    ) -> AuthSession:
        """Give one of the user's live sessions a name (None removes it); raises
        SessionNotFound for another user's, an ended or an unknown session."""
        renamed = await crud.rename_live_session(
            self.session, user_id=user_id, session_id=session_id, name=name, now=utcnow()
        )
        if renamed is None:
            raise errors.SessionNotFound()
        return renamed

    async def revoke(self, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        revoked = await crud.revoke_sessions(
            self.session, user_id=user_id, only=session_id, now=utcnow()
        )
        return revoked > 0

    async def log_out(self, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
        """End a session as logout does (the `logout` event, audited); False if it had
        already ended or is not the user's."""
        if not await self.revoke(user_id, session_id):
            return False
        if self.events is not None:
            await self.events.emit(
                EventType.LOGOUT, user_id=user_id, actor_id=user_id, session_id=session_id
            )
        return True

    async def revoke_all(self, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> int:
        return await crud.revoke_sessions(self.session, user_id=user_id, keep=keep, now=utcnow())

    async def purge(self) -> int:
        return await crud.purge_sessions(self.session, now=utcnow())

    async def _new_token(self, auth_session: AuthSession, now: datetime) -> str:
        """A random token for a new session (rotation derives its successors instead)."""
        token, digest = new_refresh_token()
        await crud.add_refresh_token(
            self.session, session_id=auth_session.id, digest=digest, expires_at=now + self.lifetime
        )
        return token
