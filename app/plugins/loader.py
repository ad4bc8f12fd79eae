"""The host's side of plugins: find them, read their settings, mount them, run them."""

import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.api.v1.oauth.grants import CORE_GRANT_TYPES
from app.api.well_known import CORE_METADATA
from app.context import AppContext
from app.core.events import EventBus
from app.plugins import routes
from app.plugins.plugin import GrantHandler, Host, LoadedPlugin, Plugin
from app.web.static import StaticAssets, StaticMount

FIRST_PARTY = "app.plugins"


class PluginLoadError(Exception):
    """PLUGINS names something that is not a plugin: the service must not start."""


def module_name(spec: str) -> str:
    """`qr_login` is a first-party plugin (app/plugins/qr_login/); dotted names are modules."""
    return spec if "." in spec else f"{FIRST_PARTY}.{spec}"


def load_plugins(specs: Sequence[str]) -> list[LoadedPlugin[Any]]:
    """Each plugin named in PLUGINS (`name`, `package.module` or `module:attribute`), with
    its settings read from the environment."""
    loaded: list[LoadedPlugin[Any]] = []
    for spec in specs:
        path, _, attribute = spec.partition(":")
        name = module_name(path)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the plugin exists but something it imports doesn't: its traceback
            raise PluginLoadError(
                f"PLUGINS names {spec!r}, which is neither a first-party plugin "
                f"(app/plugins/<name>/) nor an importable module"
            ) from None
        plugin = getattr(module, attribute or "plugin", None)
        if not isinstance(plugin, Plugin):
            raise PluginLoadError(
                f"PLUGINS names {spec!r}, but {name} has no Plugin named {attribute or 'plugin'!r}"
            )
        if any(other.plugin.name == plugin.name for other in loaded):
            raise PluginLoadError(f"PLUGINS names the plugin {plugin.name!r} twice")
        loaded.append(LoadedPlugin(plugin, plugin.settings(), module.__name__))
    return loaded


def first_party_plugins() -> list[LoadedPlugin[Any]]:
    """Every plugin in app/plugins/, enabled or not (migrations know all their tables)."""
    names = sorted(
        folder.name
        for folder in Path(__file__).parent.iterdir()
        if (folder / "__init__.py").is_file() and (folder / "plugin.py").is_file()
    )
    return load_plugins(names)


def subscribe(events: EventBus, plugins: Sequence[LoadedPlugin[Any]]) -> None:
    for loaded in plugins:
        if loaded.plugin.subscribe is not None:
            loaded.plugin.subscribe(events, loaded.settings)


def install(app: FastAPI, plugins: Sequence[LoadedPlugin[Any]]) -> None:
    """Mount the plugins' routers and frontend folders (compressed and cached as public/
    is), and `GET /v1/plugins`, and make their login gates; call before the frontend's
    catch-all route."""
    app.state.grants = grant_handlers(plugins)
    app.state.plugin_discovery = discovery_entries(plugins)
    app.state.plugin_settings = {type(loaded.settings): loaded.settings for loaded in plugins}
    app.state.plugin_manifest = routes.Manifest(plugins=[])
    app.state.login_gates = [
        loaded.plugin.login_gate(loaded.settings)
        for loaded in plugins
        if loaded.plugin.login_gate is not None
    ]
    app.include_router(routes.router)
    for loaded in plugins:
        plugin = loaded.plugin
        for router in plugin.routers:
            app.include_router(router)
        if plugin.static is not None:
            app.router.routes.append(
                StaticMount(f"/plugins/{plugin.name}", StaticAssets(directory=plugin.static))
            )
            if (plugin.static / "index.js").is_file():
                app.state.plugin_manifest.plugins.append(frontend_part(plugin.name, plugin.static))


def grant_handlers(plugins: Sequence[LoadedPlugin[Any]]) -> dict[str, GrantHandler]:
    """The OAuth 2.0 grant types the plugins serve, each made once with its settings."""
    handlers: dict[str, GrantHandler] = {}
    for loaded in plugins:
        for grant_type, factory in loaded.plugin.grants.items():
            if grant_type in CORE_GRANT_TYPES or grant_type in handlers:
                raise PluginLoadError(
                    f"The plugin {loaded.plugin.name!r} serves the grant type {grant_type!r}, "
                    "which the service or another plugin already serves"
                )
            handlers[grant_type] = factory(loaded.settings)
    return handlers


def discovery_entries(plugins: Sequence[LoadedPlugin[Any]]) -> dict[str, str]:
    """The plugins' additions to the discovery document: metadata name -> path."""
    entries: dict[str, str] = {}
    for loaded in plugins:
        for name, path in loaded.plugin.discovery.items():
            if name in CORE_METADATA or name in entries:
                raise PluginLoadError(
                    f"The plugin {loaded.plugin.name!r} publishes {name!r} in the discovery "
                    "document, which the service or another plugin already publishes"
                )
            entries[name] = path
    return entries


def frontend_part(name: str, static: Path) -> routes.FrontendPart:
    styles = [f"/plugins/{name}/{name}.css"] if (static / f"{name}.css").is_file() else []
    return routes.FrontendPart(name=name, module=f"/plugins/{name}/index.js", styles=styles)


@asynccontextmanager
async def running(plugins: Sequence[LoadedPlugin[Any]], context: AppContext) -> AsyncIterator[None]:
    """Every plugin's lifespan, entered in PLUGINS order and left in reverse."""
    host = Host(
        settings=context.settings,
        sessionmaker=context.sessionmaker,
        events=context.events,
        throttle=context.throttle,
        mailer=context.mailer,
    )
    async with AsyncExitStack() as stack:
        for loaded in plugins:
            if loaded.plugin.lifespan is not None:
                await stack.enter_async_context(loaded.plugin.lifespan(host, loaded.settings))
        yield


def migration_folders(plugins: Sequence[LoadedPlugin[Any]]) -> list[Path]:
    return [p.plugin.migrations for p in plugins if p.plugin.migrations is not None]
