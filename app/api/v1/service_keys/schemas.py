"""Bodies of the service-key endpoints."""

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.api.v1.users.schemas import UtcDatetime

# Letters, digits and `._:-`, with spaces inside: readable in a list and a log line.
ServiceKeyName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9 ._:-]*[A-Za-z0-9._:-])?$",
        description="1 to 64 letters, digits, spaces (not at either end) and `._:-`; "
        "unique among live keys, ignoring case.",
        examples=["billing-api"],
    ),
]


class ServiceKeyCreate(BaseModel):
    name: ServiceKeyName


class ServiceKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: UtcDatetime
    created_by: uuid.UUID | None = Field(description="The superuser who made it; null: the CLI.")
    last_used_at: UtcDatetime | None = Field(description="To the minute; null: never used.")


class ServiceKeyCreated(BaseModel):
    id: uuid.UUID
    name: str
    key: str = Field(description="The key itself, shown only this once: store it now.")
    created_at: UtcDatetime
