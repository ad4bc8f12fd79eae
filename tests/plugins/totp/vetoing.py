"""A plugin that refuses every change turning two-step off, to show its mail is never sent."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import EventBus, Plugin, PluginSettings, SecurityEvent, plugin_event_type


async def refuse(event: SecurityEvent, _: AsyncSession) -> None:
    raise RuntimeError("turning two-step off is refused")


def subscribe(events: EventBus, _: PluginSettings) -> None:
    events.subscribe(plugin_event_type("mfa_disabled"), refuse)


plugin = Plugin(name="vetoing_two_step_off", settings=PluginSettings, subscribe=subscribe)
