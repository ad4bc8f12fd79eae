"""Dependencies, named once so routes read like plain signatures.

They are `async def` although none of them awaits: FastAPI runs a plain `def` dependency
in the threadpool, a hop that costs more than the work of all of them on every request.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import BackgroundTasks, Depends, HTTPException, Request, status
from fastapi_users import FastAPIUsers
from fastapi_users.authentication import AuthenticationBackend, BearerTransport
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.client import client_of
from app.context import AppContext
from app.core.events import Emitter
from app.core.security import verify_token
from app.db.models import User
from app.db.session import get_session
from app.services.auth import AccessTokenStrategy
from app.services.email_links import EmailLinks
from app.services.sessions import SessionService
from app.services.users import UserDatabase, UserManager

LOGIN_PATH = "/v1/users/login"


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]
# scope="function": commit before the response is sent, so a client never sees a
# success for a change that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_events(
    request: Request, session: SessionDep, context: ContextDep, background: BackgroundTasks
) -> Emitter:
    """The event bus for this request. After-commit handlers (notification mails) run as
    background tasks: after the response, so after the commit, and not at all on an error."""
    client = client_of(request)
    return context.events.bind(
        session,
        context.sessionmaker,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        schedule=background.add_task,
    )


EventsDep = Annotated[Emitter, Depends(get_events)]


async def get_sessions(
    session: SessionDep, context: ContextDep, events: EventsDep
) -> SessionService:
    return SessionService(session, context.settings, events, key=context.tokens.key)


SessionsDep = Annotated[SessionService, Depends(get_sessions)]


async def get_user_manager(
    session: SessionDep, context: ContextDep, sessions: SessionsDep, events: EventsDep
) -> UserManager:
    return UserManager(
        UserDatabase(session, User),
        hasher=context.hasher,
        password_policy=context.password_policy,
        events=events,
        sessions=sessions,
    )


async def get_strategy(context: ContextDep, sessions: SessionsDep) -> AccessTokenStrategy:
    return AccessTokenStrategy(context.tokens, sessions)


auth_backend = AuthenticationBackend[User, uuid.UUID](
    name="jwt", transport=BearerTransport(tokenUrl=LOGIN_PATH), get_strategy=get_strategy
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])

UserManagerDep = Annotated[UserManager, Depends(get_user_manager)]


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
    context: ContextDep,
) -> SignedIn:
    user, token = user_and_token
    claims = verify_token(context.tokens, token)  # verified a moment ago; read its session id
    if claims is None:  # it expired in between
        raise HTTPException(status.HTTP_401_UNAUTHORIZED)
    return SignedIn(user=user, session_id=uuid.UUID(claims["sid"]))


CurrentSession = Annotated[SignedIn, Depends(get_signed_in)]
