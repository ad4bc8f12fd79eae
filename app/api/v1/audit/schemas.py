"""Bodies and query types of the audit-log endpoints."""

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from app.api.v1.users.schemas import UtcDatetime

# pydantic would also read a number as seconds since the epoch; the schema says date-time.
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_only(value: object) -> object:
    if isinstance(value, str) and not ISO_DATE_TIME.match(value):
        raise ValueError("use an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z")
    return value


def _in_utc(moment: datetime) -> datetime:
    # A time without an offset means UTC; one with an offset must still be a real UTC time.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range") from None


QueryTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class KnownEventTypes:
    """The audit log's `type` filter for one app: the core's event types and its enabled
    plugins' (never those of a plugin merely imported in the same process), so its
    OpenAPI document lists exactly what its server accepts."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)

    def check(self, name: str) -> str:
        if name not in self.names:
            raise ValueError("unknown event type (see the README's Audit log, and the plugins')")
        return name


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    type: str = Field(description="What happened, e.g. `login_failed` (see the README).")
    occurred_at: UtcDatetime
    user_id: uuid.UUID | None = Field(description="The account it happened to, when known.")
    actor_id: uuid.UUID | None = Field(
        description="The signed-in account that did it (the user, or an admin)."
    )
    session_id: uuid.UUID | None
    ip_address: str | None
    user_agent: str | None
    detail: dict[str, Any] = Field(description="Small, type-specific; never a secret.")


class AuditEventPage(BaseModel):
    items: list[AuditEventRead]
    limit: int
    offset: int
    next_offset: int | None = Field(description="The offset of the next page; null on the last.")
