"""A plugin that refuses every password change, to show its mail is never sent."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import EventBus, EventType, Plugin, PluginSettings, SecurityEvent


async def refuse(event: SecurityEvent, _: AsyncSession) -> None:
    raise RuntimeError("password changes are refused")


def subscribe(events: EventBus, _: PluginSettings) -> None:
    events.subscribe(EventType.PASSWORD_CHANGED, refuse)


plugin = Plugin(name="vetoing", settings=PluginSettings, subscribe=subscribe)
