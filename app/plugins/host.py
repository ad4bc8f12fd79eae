"""The host's services as FastAPI dependencies for plugin routes (app/plugins/api.py lends
them out): settings, sign-in, rate limits, mail, and periodic work run once per deployment."""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.client import client_address
from app.api.deps import (
    ContextDep,
    EventsDep,
    SessionDep,
    SessionsDep,
    StrategyDep,
    UserManagerDep,
)
from app.api.v1.users.tokens import Delivery, cookie_delivery, sign_in
from app.core.errors import InvalidRequest
from app.core.events import EventType
from app.core.security import derive_key
from app.db.crud.locks import try_transaction_lock
from app.db.crud.user import get_user
from app.db.models import User
from app.plugins.plugin import PluginSettings
from app.services.maintenance import seconds_to_next_round
from app.services.sessions import Client

logger = logging.getLogger(__name__)
S = TypeVar("S", bound=PluginSettings)


async def public_url(request: Request, context: ContextDep) -> str:
    """The service's address for links a person opens elsewhere (a QR code, a mail): the
    PUBLIC_URL setting in production, where the Host header is the client's to choose;
    in development the address the request came to, so any port works."""
    if context.settings.is_production:
        return context.settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


PublicUrlDep = Annotated[str, Depends(public_url)]


def settings_of(cls: type[S]) -> Callable[[Request], Awaitable[S]]:
    """A dependency that gives a route its plugin's settings:
    `Annotated[MySettings, Depends(settings_of(MySettings))]`."""

    async def dependency(request: Request) -> S:
        found: S = request.app.state.plugin_settings[cls]
        return found

    return dependency


class SignIn:
    """Start a session for a user, answered exactly as `POST /v1/users/login` answers."""

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        sessions: SessionsDep,
        strategy: StrategyDep,
        events: EventsDep,
    ) -> None:
        self._request = request
        self._session = session
        self._sessions = sessions
        self._strategy = strategy
        self._events = events

    def delivery(self) -> Delivery:
        """How the refresh token travels (body, or the HttpOnly cookie when the request
        has `X-Refresh-Token-Delivery: cookie`); raises CsrfCheckFailed for a cookie asked
        from another origin. Call it before doing any work."""
        return cookie_delivery(self._request)

    async def start(
        self, user_id: uuid.UUID, *, method: str, client: Client, delivery: Delivery
    ) -> JSONResponse | None:
        """A new session labelled `method` for an active user, or None if the user is gone
        or deactivated. The session shows `client` (the device that signs in)."""
        user = await get_user(self._session, user_id=user_id)
        if user is None or not user.is_active:
            return None
        grant, response = await sign_in(
            user,
            client,
            method=method,
            delivery=delivery,
            sessions=self._sessions,
            strategy=self._strategy,
        )
        await self._events.emit(
            EventType.LOGIN_SUCCEEDED,
            user_id=user.id,
            session_id=grant.session_id,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            detail={"method": method},
        )
        return response


SignInDep = Annotated[SignIn, Depends()]


class Accounts:
    """The core's account rules a plugin may apply: find a user, ask for their current
    password (throttled and audited as the core's own forms are), end their sessions."""

    def __init__(
        self,
        session: SessionDep,
        manager: UserManagerDep,
        context: ContextDep,
        request: Request,
    ) -> None:
        self._session = session
        self._manager = manager
        self._context = context
        self._request = request

    async def find(self, user_id: uuid.UUID) -> User | None:
        return await get_user(self._session, user_id=user_id)

    async def confirm_password(self, user: User, current_password: str | None) -> None:
        """Raises CurrentPasswordRequired / CurrentPasswordInvalid (400), or TooManyRequests
        past the password-guessing limit, as `PATCH /v1/users/me` does."""
        address = client_address(self._request)
        async with self._context.throttle.password_attempt(account=user.email, address=address):
            await self._manager.require_password(user, current_password)

    async def end_sessions(self, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> int:
        """Sign the user out everywhere (but the session `keep`); how many sessions ended."""
        return await self._manager.sessions.revoke_all(user_id, keep=keep)


AccountsDep = Annotated[Accounts, Depends()]


class Keys:
    """Keys derived from the service's secret (SECRET_KEY, or development's key file)."""

    def __init__(self, context: ContextDep) -> None:
        self._secret = context.tokens.key

    def derive(self, purpose: str, *, length: int = 32) -> bytes:
        """A key for one purpose only: name it after the plugin and the use ("totp:secrets
        v1"). Changing SECRET_KEY changes it, so a plugin whose data must outlive a key
        change should also offer a key setting of its own."""
        return derive_key(self._secret, purpose=purpose, length=length)


KeysDep = Annotated[Keys, Depends()]


@lru_cache
def _parsed(rate: str) -> RateLimitItem:
    return parse(rate)


class Limiter:
    """The host's rate limiter (its store and fail-open rules) for a plugin's own limits."""

    def __init__(self, context: ContextDep) -> None:
        self._throttle = context.throttle

    async def hit(self, rate: str, *keys: str) -> None:
        """Count one attempt under `keys` (start them with the plugin's name) against
        `rate` ("10/minute"); raises TooManyRequests (429, Retry-After) past it."""
        await self._throttle.hit(_parsed(rate), "plugin", *keys)


LimiterDep = Annotated[Limiter, Depends()]


def rate_limit(value: str) -> str:
    """A validator for rate-limit settings: "10/minute" and the like."""
    try:
        _parsed(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a rate limit like '10/minute'") from None
    return value


@dataclass(frozen=True)
class GrantRequest:
    """One `POST /v1/oauth/token` request of a plugin's grant type (see Plugin.grants):
    its form parameters (each sent once; empty ones left out, as RFC 6749 §3.2 says), the
    device asking, the request's database session, and the host's sign-in and limiter.
    Answer with `sign_in.start(..., delivery="body")`: OAuth clients read the refresh
    token from the body."""

    grant_type: str
    params: Mapping[str, str]
    client: Client
    session: AsyncSession
    sign_in: SignIn
    limiter: Limiter

    def param(self, name: str, *, max_length: int = 1024) -> str:
        """A required parameter; raises the OAuth `invalid_request` without it."""
        value = self.params.get(name)
        if value is None:
            raise InvalidRequest(f"The {name} parameter is missing.")
        if len(value) > max_length:
            raise InvalidRequest(f"The {name} parameter is longer than {max_length} characters.")
        return value


@asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` as a task for the block's duration (a lifespan's body); cancelled on exit."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


Work = Callable[[AsyncSession], Awaitable[Any]]


async def run_periodically(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    name: str,
    interval_seconds: int,
    work: Work,
) -> None:
    """Run `work(session)` every `interval_seconds`, in one process of the deployment at a
    time: each round takes a database-wide lock named `name` for its transaction, and a
    process that can't get it skips the round (as the core's purge does). Runs until
    cancelled; a failed round is logged and the next one runs."""
    while True:
        await asyncio.sleep(seconds_to_next_round(interval_seconds, time.time()))
        try:
            async with sessionmaker() as session, session.begin():
                if await try_transaction_lock(session, name=name):
                    await work(session)
        except Exception:  # a database restarting must not end the loop
            logger.exception("Periodic work %s failed; retrying next round", name)
