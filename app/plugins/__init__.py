"""Plugin support: a plugin adds routes and reacts to account events.

A plugin is any object with a `name` and a `setup(app, events)` method, exposed as the
attribute `plugin` of a module named in the PLUGINS setting (e.g. `PLUGINS=qrcode_login`).
"""

import importlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from fastapi import FastAPI, Request

    from app.db.models import User

UserEvent = Literal["user_registered", "user_logged_in", "user_updated", "user_deleted"]
EventHandler = Callable[["User", "Request | None"], Awaitable[None]]


class UserEvents:
    """Handlers run after the change is flushed and inside the request's transaction,
    so a handler that raises undoes the change it was told about."""

    def __init__(self) -> None:
        self._handlers: defaultdict[UserEvent, list[EventHandler]] = defaultdict(list)

    def subscribe(self, event: UserEvent, handler: EventHandler) -> None:
        self._handlers[event].append(handler)

    async def emit(self, event: UserEvent, user: "User", request: "Request | None") -> None:
        for handler in self._handlers[event]:
            await handler(user, request)


class Plugin(Protocol):
    name: str

    def setup(self, app: "FastAPI", events: UserEvents) -> None: ...


def load_plugins(specs: list[str]) -> list[Plugin]:
    """Import each `module` (its `plugin` attribute) or `module:attribute`."""
    plugins = []
    for spec in specs:
        module_name, _, attribute = spec.partition(":")
        module = importlib.import_module(module_name)
        plugins.append(getattr(module, attribute or "plugin"))
    return plugins
