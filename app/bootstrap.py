"""One start-up for the web app and the CLI, so both record, notify and reach plugins alike."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.context import AppContext
from app.core.config import Settings
from app.core.events import EventBus
from app.plugins import load_plugins
from app.services import audit
from app.services.notifications import Notifications

logger = logging.getLogger(__name__)


def build_events(settings: Settings, app: FastAPI) -> EventBus:
    """The event bus with its subscribers: the audit log first, notifications, then plugins
    (which may also add routes to `app`)."""
    events = EventBus()
    events.subscribe(None, audit.record)
    Notifications(settings).subscribe(events)
    for plugin in load_plugins(settings.plugins):
        plugin.setup(app, events)
    return events


@asynccontextmanager
async def started(settings: Settings, events: EventBus) -> AsyncIterator[AppContext]:
    """The running context (engines, hasher, limiter, mailer); closes all of it on exit."""
    context = AppContext.build(settings, events)
    try:
        await context.hasher.prepare()
        yield context
    finally:
        try:
            # Bounded: closing connections to a database that stopped answering must not
            # keep a stopping process alive (the OS closes what is left).
            async with asyncio.timeout(settings.shutdown_timeout_seconds):
                await context.close()
        except TimeoutError:
            logger.warning("Shutdown: gave up closing connections after the timeout")
