"""Session and refresh-token queries. Times are passed in, so callers decide what "now" is."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuthSession, RefreshToken, User, user_id_column
from app.db.session import EntityRead


async def create_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    expires_at: datetime,
    user_agent: str | None,
    ip_address: str | None,
    method: str = "password",
) -> AuthSession:
    auth_session = AuthSession(
        user_id=user_id,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        user_agent=user_agent,
        ip_address=ip_address,
        method=method,
    )
    session.add(auth_session)
    await session.flush()
    return auth_session


async def record_sign_in(session: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(User)
        .where(user_id_column == user_id)
        .values(last_login_at=now)
        .execution_options(synchronize_session=False)
    )


async def add_refresh_token(
    session: AsyncSession, *, session_id: uuid.UUID, digest: str, expires_at: datetime
) -> None:
    session.add(RefreshToken(digest=digest, session_id=session_id, expires_at=expires_at))
    await session.flush()


# Built once: constructing a select and deriving its cache key cost more CPU than running
# it through asyncpg, and this one runs on every authenticated request (so it also skips
# the ORM's execution on asyncpg: see EntityRead).
USER_IN_LIVE_SESSION = EntityRead(
    select(User)
    .join(AuthSession, AuthSession.user_id == user_id_column)
    .where(
        user_id_column == bindparam("user_id"),
        AuthSession.id == bindparam("session_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    ),
    User,
)


async def get_user_in_session(
    session: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> User | None:
    """The user, if the session is theirs and still live: one query per authenticated request,
    one round trip when it opens the request's work (see EntityRead and read_once)."""
    parameters = {"user_id": user_id, "session_id": session_id, "now": now}
    return await USER_IN_LIVE_SESSION.load(session, parameters)


async def lock_refresh_token(
    session: AsyncSession, *, digest: str
) -> tuple[RefreshToken, AuthSession, User] | None:
    """The token with its session and user, locked so concurrent refreshes take turns."""
    return await _refresh_token_row(
        session, _refresh_token(digest).with_for_update(of=RefreshToken)
    )


async def find_refresh_token(
    session: AsyncSession, *, digest: str
) -> tuple[RefreshToken, AuthSession, User] | None:
    """The token with its session and user, unlocked: for looking, never for rotating."""
    return await _refresh_token_row(session, _refresh_token(digest))


def _refresh_token(digest: str) -> Select[tuple[RefreshToken, AuthSession, User]]:
    return (
        select(RefreshToken, AuthSession, User)
        .join(AuthSession, RefreshToken.session_id == AuthSession.id)
        .join(User, AuthSession.user_id == user_id_column)
        .where(RefreshToken.digest == digest)
    )


async def _refresh_token_row(
    session: AsyncSession, statement: Select[tuple[RefreshToken, AuthSession, User]]
) -> tuple[RefreshToken, AuthSession, User] | None:
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1], row[2])


async def list_live_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, now: datetime
) -> Sequence[AuthSession]:
    statement = (
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .order_by(AuthSession.last_used_at.desc())
    )
    return (await session.scalars(statement)).all()


async def rename_live_session(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    name: str | None,
    now: datetime,
) -> AuthSession | None:
    """Name one of the user's live sessions; None if there is no such session."""
    statement = (
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(name=name)
        .returning(AuthSession)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def revoke_sessions(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    only: uuid.UUID | None = None,
    keep: uuid.UUID | None = None,
) -> int:
    """Revoke the user's live sessions (just `only`, or all but `keep`); returns how many."""
    statement = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    if only is not None:
        statement = statement.where(AuthSession.id == only)
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_sessions(session: AsyncSession, *, now: datetime) -> int:
    """Delete ended sessions (their tokens go with them) and expired tokens."""
    ended = await session.execute(
        delete(AuthSession).where(
            or_(AuthSession.expires_at <= now, AuthSession.revoked_at.is_not(None))
        )
    )
    await session.execute(delete(RefreshToken).where(RefreshToken.expires_at <= now))
    return int(ended.rowcount)  # type: ignore[attr-defined]
