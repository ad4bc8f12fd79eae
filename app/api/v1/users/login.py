"""Signing in with a password, in the steps every password sign-in takes:
`POST /v1/users/login` and the OAuth 2.0 password grant (`POST /v1/oauth/token`) alike.

One path, so both count against the same limits (the same account and address keys:
guesses on one lock the other out too), record the same events, audit and metrics, ask
the same login gates and start the same kind of session.
"""

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from app.api.client import client_address, client_of
from app.api.deps import (
    ContextDep,
    LoginGatesDep,
    SessionDep,
    StrategyDep,
    UserManagerDep,
)
from app.api.v1.users.schemas import LoginRequest
from app.api.v1.users.tokens import NO_STORE, Delivery, sign_in
from app.core import errors
from app.core.metrics import counting_rate_limited_logins
from app.db.models import User


class PasswordLogin:
    def __init__(
        self,
        manager: UserManagerDep,
        strategy: StrategyDep,
        context: ContextDep,
        gates: LoginGatesDep,
        session: SessionDep,
        request: Request,
    ) -> None:
        self._manager = manager
        self._strategy = strategy
        self._context = context
        self._gates = gates
        self._session = session
        self._request = request

    async def check(self, credentials: LoginRequest) -> User:
        """The active account with these credentials; raises BadCredentials, or
        TooManyRequests past the password-guessing limits."""
        address = client_address(self._request)
        async with (
            counting_rate_limited_logins(),
            self._context.throttle.password_attempt(account=credentials.email, address=address),
        ):
            user = await self._manager.check_credentials(
                email=credentials.email, password=credentials.password
            )
            if user is None:
                raise errors.BadCredentials()
        return user

    async def held(self, user: User) -> Response | None:
        """The first enabled login gate's answer if it holds this login back (a second
        step), else None. What the gate wrote commits only with a successful answer."""
        for gate in self._gates:
            answer = await gate.hold(user, self._request, self._session)
            if answer is not None:
                if isinstance(answer, Response):
                    return answer
                return JSONResponse(answer, headers=NO_STORE)
        return None

    async def start(self, user: User, *, delivery: Delivery) -> JSONResponse:
        """A new session labelled `password`, answered as login does."""
        grant, response = await sign_in(
            user,
            client_of(self._request),
            method="password",
            delivery=delivery,
            sessions=self._manager.sessions,
            strategy=self._strategy,
        )
        await self._manager.on_after_login(user, self._request, session_id=grant.session_id)
        return response


PasswordLoginDep = Annotated[PasswordLogin, Depends()]
