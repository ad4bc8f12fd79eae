"""What a plugin declares: its name, settings, routes, tables, frontend, events and lifespan."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.events import AnyEventType, EventBus, PluginEventType, SecurityEvent
from app.core.rate_limits import Throttle
from app.db.models import User
from app.services.mail import Mail, Mailer

if TYPE_CHECKING:  # host.py builds on this module
    from app.plugins.host import GrantRequest


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


class LoginGate(Protocol):
    """Holds a password login back until a further step passes (a second factor, say).

    The host asks every enabled plugin's gate, in PLUGINS order, once the password is
    known to be right and the account active: a wrong password never reaches a gate, so
    it answers exactly as it does without one. The first gate that holds the login
    answers instead of the tokens; it finishes the login later with `SignInDep`.
    """

    async def hold(
        self, user: User, request: Request, session: AsyncSession
    ) -> Response | dict[str, Any] | None:
        """None lets the login through. Otherwise the answer to send instead of tokens (a
        dict is sent as a 200 JSON body, not cached); `session` is the login request's
        own, committed with its answer. The OAuth2 password form can't show a second
        step: for it the host answers 400 LOGIN_SECOND_STEP_REQUIRED instead, and what
        `hold` wrote rolls back."""
        ...


# Answers one `POST /v1/oauth/token` request of its grant type: the tokens (from
# `GrantRequest.sign_in`), or raises an AppError. An error with an `error` attribute
# (RFC 6749/8628's name, as qr_login's have) is answered with that `error`; others get
# `invalid_request`, or `invalid_grant` for the core's failed sign-ins.
GrantHandler: TypeAlias = "Callable[[GrantRequest], Awaitable[Response]]"

# The mail telling an account about a change (its event), or None for no mail. It must not
# hold a secret: it travels through mail servers and sits in inboxes.
Notice: TypeAlias = Callable[[SecurityEvent], Mail | None]

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
      (background work such as an expiry sweeper); the CLI doesn't run it;
    - `login_gate(settings)`: a LoginGate, made once at start-up, that may hold a password
      login back until a further step passes;
    - `event_types`: the event types the plugin adds (`plugin_event_type`); with the
      plugin enabled they are audited and accepted by the audit log's `type` filter;
    - `notices`: mails about the plugin's events, `{event type: Notice}`, sent by the host
      as the core's security notices are: once the change has committed (never for one
      that rolled back), after the answer, a failure logged; the web app and the CLI alike;
    - `grants`: OAuth 2.0 grant types the plugin serves at `POST /v1/oauth/token`, each
      `grant_type` (an absolute URI, RFC 6749 §4.5) mapped to a factory of its
      GrantHandler, called once at start-up with the settings;
    - `discovery`: entries the plugin adds to the discovery document
      (`/.well-known/openid-configuration`), each an RFC 8414 metadata name mapped to a
      path of the plugin's, published as an absolute URL (qr_login:
      `{"device_authorization_endpoint": "/v1/qr-login/start"}`).
    """

    name: str
    settings: type[S]
    routers: Sequence[APIRouter] = ()
    migrations: Path | None = None
    static: Path | None = None
    subscribe: Callable[[EventBus, S], None] | None = None
    lifespan: Callable[[Host, S], AbstractAsyncContextManager[None]] | None = None
    login_gate: Callable[[S], LoginGate] | None = None
    grants: Mapping[str, Callable[[S], GrantHandler]] = field(default_factory=dict)
    event_types: Sequence[PluginEventType] = ()
    notices: Mapping[AnyEventType, Notice] = field(default_factory=dict)
    discovery: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedPlugin(Generic[S]):
    """A plugin with its settings, read once at start-up, and the module it came from."""

    plugin: Plugin[S]
    settings: S
    module: str
