"""What a plugin declares: its name, settings, routes, tables, frontend, events and lifespan."""

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from fastapi import APIRouter
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.events import EventBus
from app.core.rate_limits import Throttle
from app.services.mail import Mailer


class PluginSettings(BaseSettings):
    """A plugin's settings: subclass it with `model_config = SettingsConfigDict(env_prefix=...)`
    (`QR_LOGIN_` for qr_login), read from the environment and `.env` like the core's."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")


@dataclass(frozen=True)
class Host:
    """What the running service lends a plugin's lifespan: its settings, database, events,
    rate limiter and mailer."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    events: EventBus
    throttle: Throttle
    mailer: Mailer


S = TypeVar("S", bound=PluginSettings)


@dataclass(frozen=True, kw_only=True)
class Plugin(Generic[S]):
    """A plugin. Only `name` and `settings` are required; every other part is optional.

    - `routers`: mounted by the host as they are (give them their own `/v1/<name>` prefix);
    - `migrations`: the plugin's Alembic `versions/` folder, a branch labelled `name`
      whose first revision `depends_on` the core revision it needs (its models live on
      the host's `Base`);
    - `static`: a folder served at `/plugins/<name>/`; `index.js` in it is the frontend
      part's entry module, `<name>.css` its optional stylesheet;
    - `subscribe(events, settings)`: subscribe to the event bus at start-up;
    - `lifespan(host, settings)`: an async context manager running for the app's life
      (background work such as an expiry sweeper); the CLI doesn't run it.
    """

    name: str
    settings: type[S]
    routers: Sequence[APIRouter] = ()
    migrations: Path | None = None
    static: Path | None = None
    subscribe: Callable[[EventBus, S], None] | None = None
    lifespan: Callable[[Host, S], AbstractAsyncContextManager[None]] | None = None


@dataclass(frozen=True)
class LoadedPlugin(Generic[S]):
    """A plugin with its settings, read once at start-up, and the module it came from."""

    plugin: Plugin[S]
    settings: S
    module: str
