"""A plugin that refuses every password change, to show its mail is never sent."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins import EventBus, EventType, SecurityEvent


class Vetoing:
    name = "vetoing"

    def setup(self, app: FastAPI, events: EventBus) -> None:
        async def refuse(event: SecurityEvent, _: AsyncSession) -> None:
            raise RuntimeError("password changes are refused")

        events.subscribe(EventType.PASSWORD_CHANGED, refuse)


plugin = Vetoing()
