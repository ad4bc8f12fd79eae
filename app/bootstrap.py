"""One start-up for the web app and the CLI, so both record, notify and reach plugins alike."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.context import AppContext
from app.core.config import Settings
from app.core.events import AnyEventType, EventBus, EventType
from app.plugins import loader
from app.plugins.plugin import LoadedPlugin
from app.services import audit
from app.services.notifications import Notifications

logger = logging.getLogger(__name__)
# A session's start is audited as the login (or a plugin's sign-in) it belongs to.
UNAUDITED = frozenset({EventType.SESSION_STARTED})


def load_plugins(settings: Settings) -> list[LoadedPlugin[Any]]:
    """The plugins PLUGINS names; raises PluginLoadError (start-up stops) for an unknown one."""
    return loader.load_plugins(settings.plugins)


def event_types(plugins: list[LoadedPlugin[Any]]) -> list[AnyEventType]:
    """The event types of an app with these plugins: the core's, then the plugins' own."""
    added = {type for loaded in plugins for type in loaded.plugin.event_types}
    return [*EventType, *sorted(added)]


def build_events(settings: Settings, plugins: list[LoadedPlugin[Any]]) -> EventBus:
    """The event bus with its subscribers: the audit log first, notifications, then plugins."""
    events = EventBus()
    for type in event_types(plugins):
        if type not in UNAUDITED:
            events.subscribe(type, audit.record)
    notifications = Notifications(settings)
    notifications.subscribe(events)
    for loaded in plugins:
        for type, compose in loaded.plugin.notices.items():
            notifications.subscribe_notice(events, type, compose)
    loader.subscribe(events, plugins)
    return events


@asynccontextmanager
async def started(settings: Settings, events: EventBus) -> AsyncIterator[AppContext]:
    """The running context (engines, hasher, limiter, mailer); closes all of it on exit."""
    context = AppContext.build(settings, events)
    try:
        await context.hasher.prepare()
        if context.signing_keys is not None:
            await context.signing_keys.start(context.tokens.ring)
        yield context
    finally:
        try:
            # Bounded: closing connections to a database that stopped answering must not
            # keep a stopping process alive (the OS closes what is left).
            async with asyncio.timeout(settings.shutdown_timeout_seconds):
                await context.close()
        except TimeoutError:
            logger.warning("Shutdown: gave up closing connections after the timeout")
