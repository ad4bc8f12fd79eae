"""Service keys: what other backends present to call token introspection.

A key is shown once, when it is made, and stored only as its SHA-256 digest; a request's
key is found by its digest. There is no cache: every request reads the key's row, so a
revocation holds for the very next request on every instance.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.core.events import Emitter, EventType, utcnow
from app.core.security import SERVICE_KEY_PREFIX, new_service_key, service_key_digest
from app.db.crud import service_key as crud
from app.db.models import ServiceKey
from app.services.sessions import as_utc

# last_used_at is for people ("is this key still in use?"): a minute's precision is plenty,
# and it spares a write (and a row lock that concurrent requests would queue on) per request.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_KEY_LENGTH = 100  # ours are 46 characters; anything much longer is not one of them


@dataclass(frozen=True)
class CreatedKey:
    record: ServiceKey
    key: str  # the only time it exists outside the caller's hands


class ServiceKeys:
    def __init__(self, session: AsyncSession, events: Emitter) -> None:
        self.session = session
        self.events = events

    async def create(self, name: str, *, actor_id: uuid.UUID | None) -> CreatedKey:
        """A new key named `name` (unique among live keys, case-insensitively)."""
        key, digest = new_service_key()
        try:
            record = await crud.create_service_key(
                self.session, name=name, digest=digest, created_by=actor_id, now=utcnow()
            )
        except IntegrityError as exc:
            raise errors.ServiceKeyNameTaken() from exc
        await self._emit(EventType.SERVICE_KEY_CREATED, record, actor_id)
        return CreatedKey(record, key)

    async def live(self) -> Sequence[ServiceKey]:
        return await crud.list_live_service_keys(self.session)

    async def revoke(self, key_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
        """Revoke a live key at once; raises ServiceKeyNotFound."""
        record = await crud.revoke_service_key(self.session, key_id=key_id, now=utcnow())
        if record is None:
            raise errors.ServiceKeyNotFound()
        await self._emit(EventType.SERVICE_KEY_REVOKED, record, actor_id)

    async def _emit(self, type: EventType, record: ServiceKey, actor_id: uuid.UUID | None) -> None:
        # The admin who acted is also the account it happened to: it shows in their own
        # activity. Keys made by the CLI have no account.
        await self.events.emit(
            type,
            user_id=actor_id,
            actor_id=actor_id,
            detail={"service_key_id": str(record.id), "name": record.name},
        )


async def authenticate(session: AsyncSession, key: str) -> ServiceKey | None:
    """The live key `key` is, or None (needs no events: a use is not audited)."""
    if not key.startswith(SERVICE_KEY_PREFIX) or len(key) > MAX_KEY_LENGTH:
        return None  # not one of ours: no query
    record = await crud.get_live_service_key(session, digest=service_key_digest(key))
    if record is None:
        return None
    now = utcnow()
    last_used = record.last_used_at
    if last_used is None or now - as_utc(last_used) >= LAST_USED_PRECISION:
        await crud.touch_service_key(
            session, key_id=record.id, now=now, before=now - LAST_USED_PRECISION
        )
    return record
