"""A plugin used by the tests: a few routes, and a record of the events it heard."""

import uuid
from typing import Annotated

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import (
    EventBus,
    EventType,
    Plugin,
    PluginSettings,
    SecurityEvent,
    User,
    require_roles,
)

seen: list[tuple[str, uuid.UUID | None]] = []
seen_after_commit: list[str] = []
started: list[tuple[str, uuid.UUID | None]] = []  # session_started: (method, session id)

router = APIRouter(prefix="/v1/greeter")


@router.get("/hello")
async def hello() -> dict[str, str]:
    """Says hello."""
    return {"hello": "world"}


@router.get("/desk", dependencies=[require_roles("editor")])
async def desk() -> dict[str, str]:
    """Only for editors (and superusers)."""
    return {"desk": "open"}


@router.get("/press")
async def press(user: Annotated[User, require_roles("editor", "publisher")]) -> dict[str, str]:
    """Only for users who are both editors and publishers (and superusers)."""
    return {"printed_by": user.email}


async def remember(event: SecurityEvent, _: AsyncSession) -> None:
    seen.append((event.type, event.user_id))


async def remember_start(event: SecurityEvent, _: AsyncSession) -> None:
    started.append((event.detail["method"], event.session_id))


async def remember_committed(event: SecurityEvent) -> None:
    seen_after_commit.append(event.type)


def subscribe(events: EventBus, _: PluginSettings) -> None:
    events.subscribe(EventType.REGISTERED, remember)
    events.subscribe(EventType.LOGIN_SUCCEEDED, remember)
    events.subscribe(EventType.SESSION_STARTED, remember_start)
    events.subscribe_after_commit(None, remember_committed)


plugin = Plugin(name="greeter", settings=PluginSettings, routers=[router], subscribe=subscribe)
