"""A plugin used by the tests: one route, and a record of the events it heard."""

import uuid

from fastapi import APIRouter, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins import EventBus, EventType, SecurityEvent

seen: list[tuple[str, uuid.UUID | None]] = []
seen_after_commit: list[str] = []


class Greeter:
    name = "greeter"

    def setup(self, app: FastAPI, events: EventBus) -> None:
        router = APIRouter(prefix="/v1/greeter")

        @router.get("/hello")
        async def hello() -> dict[str, str]:
            return {"hello": "world"}

        app.include_router(router)

        async def remember(event: SecurityEvent, _: AsyncSession) -> None:
            seen.append((event.type, event.user_id))

        async def remember_committed(event: SecurityEvent) -> None:
            seen_after_commit.append(event.type)

        events.subscribe(EventType.REGISTERED, remember)
        events.subscribe(EventType.LOGIN_SUCCEEDED, remember)
        events.subscribe_after_commit(None, remember_committed)


plugin = Greeter()
