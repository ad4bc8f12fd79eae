"""Plugin support: a plugin adds routes and hears security events.

A plugin is any object with a `name` and a `setup(app, events)` method, exposed as the
attribute `plugin` of a module named in the PLUGINS setting (e.g. `PLUGINS=qrcode_login`).
`events` is the app's EventBus (app/core/events.py): subscribe to one EventType or to all.
"""

import importlib
from typing import TYPE_CHECKING, Protocol

from app.core.events import EventBus, EventType, SecurityEvent

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["EventBus", "EventType", "Plugin", "SecurityEvent", "load_plugins"]


class Plugin(Protocol):
    name: str

    def setup(self, app: "FastAPI", events: EventBus) -> None: ...


def load_plugins(specs: list[str]) -> list[Plugin]:
    """Import each `module` (its `plugin` attribute) or `module:attribute`."""
    plugins = []
    for spec in specs:
        module_name, _, attribute = spec.partition(":")
        module = importlib.import_module(module_name)
        plugins.append(getattr(module, attribute or "plugin"))
    return plugins
