"""Dependencies, named once so routes read like plain signatures.

They are `async def` although none of them awaits: FastAPI runs a plain `def` dependency
in the threadpool, a hop that costs more than the work of all of them on every request.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_users import FastAPIUsers
from fastapi_users.authentication import AuthenticationBackend, BearerTransport
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.client import client_address, client_of
from app.context import AppContext
from app.core import errors
from app.core.events import Emitter
from app.db.models import ServiceKey, User
from app.db.session import get_session, request_session
from app.plugins.plugin import LoginGate
from app.services.auth import AccessTokenStrategy
from app.services.email_links import EmailLinks
from app.services.roles import RoleService
from app.services.service_keys import authenticate as authenticate_service_key
from app.services.sessions import SessionService
from app.services.users import UserDatabase, UserManager

LOGIN_PATH = "/v1/users/login"


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_login_gates(request: Request) -> Sequence[LoginGate]:
    """The enabled plugins' login gates (a second step after the password, say)."""
    gates: Sequence[LoginGate] = request.app.state.login_gates
    return gates


LoginGatesDep = Annotated[Sequence[LoginGate], Depends(get_login_gates)]
# scope="function": commit before the response is sent, so a client never sees a
# success for a change that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_user_manager(
    request: Request, background: BackgroundTasks, session: SessionDep
) -> UserManager:
    """The account rules, in the request's unit of work: what they change is committed."""
    return _user_manager(request, background, session)


async def get_token_user_manager(request: Request, background: BackgroundTasks) -> UserManager:
    """The user manager fastapi-users' current-user dependency reads the token's user with.

    It runs on every authenticated request, and most of those only read: so it has no
    sub-dependency to solve (the context is read here, not through ContextDep), and its
    session is the request's one (request_session) without the unit of work. A route
    that writes depends on the unit of work itself (SessionDep, or UserManagerDep and
    what is built on it), on that same session.
    """
    return _user_manager(request, background, request_session(request))


def _user_manager(
    request: Request, background: BackgroundTasks, session: AsyncSession
) -> UserManager:
    """Its event bus and session service are built on first use: they cost nothing until
    a route uses them. After-commit handlers (notification mails) run as background
    tasks: after the response, so after the commit, and not at all on an error."""
    context: AppContext = request.app.state.context

    def events() -> Emitter:
        client = client_of(request)
        return context.events.bind(
            session,
            context.sessionmaker,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            schedule=background.add_task,
        )

    def sessions(events: Emitter) -> SessionService:
        return SessionService(session, context.settings, events, key=context.tokens.key)

    return UserManager(
        UserDatabase(session, User),
        hasher=context.hasher,
        password_policy=context.password_policy,
        events=events,
        sessions=sessions,
    )


UserManagerDep = Annotated[UserManager, Depends(get_user_manager)]


async def get_events(manager: UserManagerDep) -> Emitter:
    return manager.events


async def get_sessions(manager: UserManagerDep) -> SessionService:
    return manager.sessions


EventsDep = Annotated[Emitter, Depends(get_events)]
SessionsDep = Annotated[SessionService, Depends(get_sessions)]


async def get_strategy(request: Request) -> AccessTokenStrategy:
    """Reads and signs tokens; reading needs only the key (and the manager's session).
    Part of every authenticated request, so without sub-dependencies (see
    get_token_user_manager)."""
    context: AppContext = request.app.state.context
    await context.tokens.ring.ready()  # free once the signing keys are loaded
    return AccessTokenStrategy(context.tokens)


auth_backend = AuthenticationBackend[User, uuid.UUID](
    name="jwt", transport=BearerTransport(tokenUrl=LOGIN_PATH), get_strategy=get_strategy
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_token_user_manager, [auth_backend])


async def get_email_links(manager: UserManagerDep, context: ContextDep) -> EmailLinks:
    return EmailLinks(manager, context)


EmailLinksDep = Annotated[EmailLinks, Depends(get_email_links)]
StrategyDep = Annotated[AccessTokenStrategy, Depends(get_strategy)]
CurrentUser = Annotated[User, Depends(fastapi_users.current_user(active=True))]
CurrentSuperuser = Annotated[User, Depends(fastapi_users.current_user(active=True, superuser=True))]


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: uuid.UUID


async def get_signed_in(
    user_and_token: Annotated[
        tuple[User, str], Depends(fastapi_users.authenticator.current_user_token(active=True))
    ],
    strategy: StrategyDep,
) -> SignedIn:
    user, token = user_and_token
    # The same strategy instance read the token a moment ago (FastAPI caches it per request).
    claims = strategy.verified_claims(token)
    if claims is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED)
    return SignedIn(user=user, session_id=uuid.UUID(claims["sid"]))


CurrentSession = Annotated[SignedIn, Depends(get_signed_in)]


# Its own scheme in the API docs: a service key is not a user's token (the Authorize
# dialog takes one of each).
service_key_scheme = HTTPBearer(
    scheme_name="ServiceKey",
    description="A service key (`sk_...`) made by a superuser, for token introspection.",
    auto_error=False,
)


async def get_service_key(
    request: Request,
    session: SessionDep,
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(service_key_scheme)],
) -> ServiceKey:
    """The caller's live service key; 401 without one (429 after many wrong ones)."""
    key = None
    if credentials is not None:
        key = await authenticate_service_key(session, credentials.credentials)
    if key is None:
        await context.throttle.service_key_failure(address=client_address(request))
        raise errors.ServiceKeyInvalid(presented=credentials is not None)
    return key


CurrentServiceKey = Annotated[ServiceKey, Depends(get_service_key)]


async def get_roles(session: SessionDep, events: EventsDep) -> RoleService:
    return RoleService(session, events)


RolesDep = Annotated[RoleService, Depends(get_roles)]


def require_roles(*names: str) -> Any:
    """A dependency for a signed-in user with every one of `names` (superusers pass any
    check): `Depends`-ready, for `dependencies=[require_roles("editor")]` or
    `user: Annotated[User, require_roles("editor")]`. Anonymous callers get 401, users
    without a role 403. The roles are the user's current ones (loaded with the user in
    the token check), not the token's: taking a role away applies here at once."""
    needed = frozenset(names)

    async def has_roles(user: CurrentUser) -> User:
        if not user.is_superuser and not needed <= set(user.roles):
            raise errors.RoleRequired()
        return user

    return Depends(has_roles)
