"""The host API: the one module of `app` a plugin imports (an import-linter contract in
pyproject.toml holds every plugin to it). Everything here is meant to stay stable.

Declaring a plugin: Plugin, PluginSettings, Host (what a lifespan gets).
Routes: CurrentUser, CurrentSession (the user and their session id), SessionDep (the
request's database session, committed on success), EventsDep (emit events), SignInDep
(start a session answered as login is), LimiterDep (rate limits), settings_of (the
plugin's settings), client_of (the caller's address and user agent), PublicUrlDep (the
service's address for links: PUBLIC_URL in production, never the Host header).
Data: Base (declare models on it), Client, utcnow.
Errors: PluginError (subclass it with a code of your own), responses (document errors on
a route), and the core's errors a plugin may raise or document.
Events: EventBus, EventType, SecurityEvent, Emitter.
Mail: Mail, Mailer (`host.mailer.send(Mail(...))` or `MailerDep` in a route).
Background work: in_background (a task for a lifespan's duration), run_periodically
(once per deployment, under a database lock).
"""

from typing import Annotated

from fastapi import Depends

from app.api.client import client_of
from app.api.deps import ContextDep, CurrentSession, CurrentUser, EventsDep, SessionDep
from app.api.openapi import UNAUTHORIZED, VALIDATION_ERROR
from app.core.errors import (
    AppError,
    CsrfCheckFailed,
    ErrorBody,
    PluginError,
    TooManyRequests,
    UnsupportedMediaType,
    responses,
)
from app.core.events import Emitter, EventBus, EventType, SecurityEvent, utcnow
from app.core.rate_limits import address_key
from app.db.base import Base
from app.plugins.host import (
    LimiterDep,
    PublicUrlDep,
    SignIn,
    SignInDep,
    in_background,
    rate_limit,
    run_periodically,
    settings_of,
)
from app.plugins.plugin import Host, Plugin, PluginSettings
from app.services.mail import Mail, Mailer
from app.services.sessions import Client


async def _mailer(context: ContextDep) -> Mailer:
    return context.mailer


MailerDep = Annotated[Mailer, Depends(_mailer)]

__all__ = [
    "UNAUTHORIZED",
    "VALIDATION_ERROR",
    "AppError",
    "Base",
    "Client",
    "CsrfCheckFailed",
    "CurrentSession",
    "CurrentUser",
    "Emitter",
    "ErrorBody",
    "EventBus",
    "EventType",
    "EventsDep",
    "Host",
    "LimiterDep",
    "Mail",
    "Mailer",
    "MailerDep",
    "Plugin",
    "PluginError",
    "PluginSettings",
    "PublicUrlDep",
    "SecurityEvent",
    "SessionDep",
    "SignIn",
    "SignInDep",
    "TooManyRequests",
    "UnsupportedMediaType",
    "address_key",
    "client_of",
    "in_background",
    "rate_limit",
    "responses",
    "run_periodically",
    "settings_of",
    "utcnow",
]
