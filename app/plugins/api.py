"""The host API: the one module of `app` a plugin imports (an import-linter contract in
pyproject.toml holds every plugin to it). Everything here is meant to stay stable.

Declaring a plugin: Plugin, PluginSettings, Host (what a lifespan gets).
Routes: CurrentUser, CurrentSuperuser, CurrentSession (the user and their session id),
require_roles("editor", ...) (a signed-in user with every one of those roles, or a
superuser; `dependencies=[require_roles(...)]` or `Annotated[User, require_roles(...)]`),
SessionDep (the request's database session, committed on success: a route that writes
depends on it; CurrentUser alone only reads, and changes left without it are discarded),
EventsDep (emit events), SignInDep (start a session answered as login is), AccountsDep
(find a user, ask for their password, end their sessions), KeysDep (keys derived from
the service's secret), LimiterDep (rate limits), settings_of (the plugin's settings),
client_of (the caller's address and user agent), PublicUrlDep (the service's address for
links: PUBLIC_URL in production, never the Host header), serves_production (whether a URL
may be used for links in production: https, or http on loopback).
Login: LoginGate (hold a correct password login back until a further step passes;
declare it as `Plugin(login_gate=...)`); GrantHandler and GrantRequest (serve an OAuth 2.0
grant type at `POST /v1/oauth/token`: `Plugin(grants={grant_type: factory})`).
Data: Base (declare models on it), User (the accounts table, to read), Client, utcnow.
Errors: PluginError (subclass it with a code of your own), responses (document errors on
a route), and the core's errors a plugin may raise or document (RoleRequired is the 403
require_roles answers).
Events: EventBus, EventType, SecurityEvent, Emitter; plugin_event_type("mfa_enabled")
declares a type of the plugin's own, to list in `Plugin(event_types=...)` (audited, and
heard by subscribers like the core's);
ENDS_SIGN_INS_IN_PROGRESS and ends_sign_ins_in_progress: after which a sign-in a plugin
holds open (a pending step, an approval not yet collected) must end.
Mail: Mail, Mailer (`host.mailer.send(Mail(...))` or `MailerDep` in a route). Security
notices about a plugin's events: `Plugin(notices={event_type: Notice})`, where a Notice makes
the mail (or None) from the event and the host sends it once the change has committed, as
it sends the core's; when_and_where(event.occurred_at, event.ip_address, event.user_agent)
words the time and client as the core's notices do.
Background work: in_background (a task for a lifespan's duration), run_periodically
(once per deployment, under a database lock).
"""

from typing import Annotated

from fastapi import Depends

from app.api.client import client_of
from app.api.deps import (
    ContextDep,
    CurrentSession,
    CurrentSuperuser,
    CurrentUser,
    EventsDep,
    SessionDep,
    require_roles,
)
from app.api.openapi import UNAUTHORIZED, VALIDATION_ERROR
from app.core.config import serves_production
from app.core.errors import (
    AppError,
    CsrfCheckFailed,
    CurrentPasswordInvalid,
    CurrentPasswordRequired,
    ErrorBody,
    PluginError,
    RoleRequired,
    TooManyRequests,
    UnsupportedMediaType,
    UserNotFound,
    responses,
)
from app.core.events import (
    ENDS_SIGN_INS_IN_PROGRESS,
    Emitter,
    EventBus,
    EventType,
    PluginEventType,
    SecurityEvent,
    ends_sign_ins_in_progress,
    plugin_event_type,
    utcnow,
)
from app.core.rate_limits import address_key
from app.db.base import Base
from app.db.models import User
from app.plugins.host import (
    AccountsDep,
    GrantRequest,
    KeysDep,
    Limiter,
    LimiterDep,
    PublicUrlDep,
    SignIn,
    SignInDep,
    in_background,
    rate_limit,
    run_periodically,
    settings_of,
)
from app.plugins.plugin import GrantHandler, Host, LoginGate, Notice, Plugin, PluginSettings
from app.services.mail import Mail, Mailer, when_and_where
from app.services.sessions import Client


async def _mailer(context: ContextDep) -> Mailer:
    return context.mailer


MailerDep = Annotated[Mailer, Depends(_mailer)]

__all__ = [
    "ENDS_SIGN_INS_IN_PROGRESS",
    "UNAUTHORIZED",
    "VALIDATION_ERROR",
    "AccountsDep",
    "AppError",
    "Base",
    "Client",
    "CsrfCheckFailed",
    "CurrentPasswordInvalid",
    "CurrentPasswordRequired",
    "CurrentSession",
    "CurrentSuperuser",
    "CurrentUser",
    "Emitter",
    "ErrorBody",
    "EventBus",
    "EventType",
    "EventsDep",
    "GrantHandler",
    "GrantRequest",
    "Host",
    "KeysDep",
    "Limiter",
    "LimiterDep",
    "LoginGate",
    "Mail",
    "Mailer",
    "MailerDep",
    "Notice",
    "Plugin",
    "PluginError",
    "PluginEventType",
    "PluginSettings",
    "PublicUrlDep",
    "RoleRequired",
    "SecurityEvent",
    "SessionDep",
    "SignIn",
    "SignInDep",
    "TooManyRequests",
    "UnsupportedMediaType",
    "User",
    "UserNotFound",
    "address_key",
    "client_of",
    "ends_sign_ins_in_progress",
    "in_background",
    "plugin_event_type",
    "rate_limit",
    "require_roles",
    "responses",
    "run_periodically",
    "serves_production",
    "settings_of",
    "utcnow",
    "when_and_where",
]
