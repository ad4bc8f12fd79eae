"""A plugin whose registration handler fails, to show the change is undone."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import EventBus, EventType, Plugin, PluginSettings, SecurityEvent


async def refuse(event: SecurityEvent, _: AsyncSession) -> None:
    raise RuntimeError(f"plugin refused {event.user_id}")


def subscribe(events: EventBus, _: PluginSettings) -> None:
    events.subscribe(EventType.REGISTERED, refuse)


plugin = Plugin(name="failing", settings=PluginSettings, subscribe=subscribe)
