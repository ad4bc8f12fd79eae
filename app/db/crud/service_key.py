"""Service-key queries. They flush, never commit: the caller owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import ServiceKey
from app.db.session import read_once


async def create_service_key(
    session: AsyncSession,
    *,
    name: str,
    digest: str,
    created_by: uuid.UUID | None,
    now: datetime,
) -> ServiceKey:
    """Raises IntegrityError when a live key has the name (the unique index decides)."""
    key = ServiceKey(name=name, digest=digest, created_by=created_by, created_at=now)
    session.add(key)
    await session.flush()
    return key


async def list_live_service_keys(session: AsyncSession) -> Sequence[ServiceKey]:
    statement = (
        select(ServiceKey)
        .where(ServiceKey.revoked_at.is_(None))
        .order_by(ServiceKey.created_at, ServiceKey.id)
    )
    return (await session.scalars(statement)).all()


async def get_live_service_key(session: AsyncSession, *, digest: str) -> ServiceKey | None:
    statement = select(ServiceKey).where(
        ServiceKey.digest == digest, ServiceKey.revoked_at.is_(None)
    )
    # Every introspection starts here: one round trip, no transaction (see read_once).
    found: ServiceKey | None = (await read_once(session, statement)).scalar_one_or_none()
    return found


async def revoke_service_key(
    session: AsyncSession, *, key_id: uuid.UUID, now: datetime
) -> ServiceKey | None:
    """Revoke a live key; None if there is no live key with this id."""
    statement = (
        update(ServiceKey)
        .where(ServiceKey.id == key_id, ServiceKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(ServiceKey)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(statement)).one_or_none()


async def touch_service_key(
    session: AsyncSession, *, key_id: uuid.UUID, now: datetime, before: datetime
) -> None:
    """Set last_used_at to `now` unless it is already at or after `before` (another request
    just did it): one write per key per interval, not one per request."""
    await session.execute(
        update(ServiceKey)
        .where(
            ServiceKey.id == key_id,
            or_(ServiceKey.last_used_at.is_(None), ServiceKey.last_used_at < before),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
