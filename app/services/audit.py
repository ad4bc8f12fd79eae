"""The audit log: the first subscriber of the event bus, and what reads and purges it."""

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.events import SecurityEvent, utcnow
from app.db.crud import audit as crud
from app.db.models import AuditEvent

MAX_USER_AGENT = 512
MAX_ADDRESS = 45  # the longest textual IPv6 address (with an embedded IPv4 one)


async def record(event: SecurityEvent, session: AsyncSession) -> None:
    """Write the event in the transaction it is emitted in (subscribed for every type)."""
    await crud.add_event(
        session,
        type=event.type.value,
        occurred_at=event.occurred_at,
        user_id=event.user_id,
        actor_id=event.actor_id,
        session_id=event.session_id,
        ip_address=_address(event.ip_address),
        user_agent=event.user_agent[:MAX_USER_AGENT] if event.user_agent else None,
        detail=event.detail,
    )


def _address(value: str | None) -> str | None:
    # Only ever store an address: the column is an IP's width, and the log is evidence.
    if value is None:
        return None
    try:
        address = str(ipaddress.ip_address(value))
    except ValueError:
        return None
    return address if len(address) <= MAX_ADDRESS else None


class AuditLog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def events_of(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> Sequence[AuditEvent]:
        """One account's events, newest first."""
        return await crud.list_events(self.session, user_id=user_id, limit=limit, offset=offset)

    async def search(
        self,
        *,
        limit: int,
        offset: int,
        user_id: uuid.UUID | None = None,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Sequence[AuditEvent]:
        """Every account's events, newest first, filtered."""
        return await crud.list_events(
            self.session,
            user_id=user_id,
            type=type,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    async def purge(self, *, retention_days: int) -> int:
        """Delete events older than the retention period; returns how many."""
        return await crud.purge_events(
            self.session, before=utcnow() - timedelta(days=retention_days)
        )
