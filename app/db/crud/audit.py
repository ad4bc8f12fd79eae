"""Audit-event queries. They flush, never commit: the caller owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent


async def add_event(
    session: AsyncSession,
    *,
    type: str,
    occurred_at: datetime,
    user_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    ip_address: str | None,
    user_agent: str | None,
    detail: dict[str, Any],
) -> AuditEvent:
    event = AuditEvent(
        type=type,
        occurred_at=occurred_at,
        user_id=user_id,
        actor_id=actor_id,
        session_id=session_id,
        ip_address=ip_address,
        user_agent=user_agent,
        detail=detail,
    )
    session.add(event)
    await session.flush()
    return event


async def list_events(
    session: AsyncSession,
    *,
    limit: int,
    offset: int,
    user_id: uuid.UUID | None = None,
    type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditEvent]:
    """Newest first; `since` is inclusive, `until` exclusive."""
    statement = select(AuditEvent)
    if user_id is not None:
        statement = statement.where(AuditEvent.user_id == user_id)
    if type is not None:
        statement = statement.where(AuditEvent.type == type)
    if since is not None:
        statement = statement.where(AuditEvent.occurred_at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.occurred_at < until)
    statement = (
        statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(statement)).all()


async def purge_events(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(AuditEvent).where(AuditEvent.occurred_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
