"""A plugin whose registration handler fails, to show the change is undone."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins import EventBus, EventType, SecurityEvent


class Failing:
    name = "failing"

    def setup(self, app: FastAPI, events: EventBus) -> None:
        async def refuse(event: SecurityEvent, _: AsyncSession) -> None:
            raise RuntimeError(f"plugin refused {event.user_id}")

        events.subscribe(EventType.REGISTERED, refuse)


plugin = Failing()
