"""The core's grant types at `POST /v1/oauth/token`, dispatched as plugins' are: each a
GrantHandler over the very services `POST /v1/users/login` and `/refresh` use."""

from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.api.deps import ContextDep, SessionsDep, StrategyDep
from app.api.v1.users.login import PasswordLoginDep
from app.api.v1.users.schemas import LoginRequest
from app.api.v1.users.tokens import token_response
from app.core import errors
from app.plugins.host import GrantRequest
from app.plugins.plugin import GrantHandler

PASSWORD = "password"  # noqa: S105 (RFC 6749's name for the grant)
REFRESH_TOKEN = "refresh_token"  # noqa: S105
CORE_GRANT_TYPES = (PASSWORD, REFRESH_TOKEN)
MAX_REFRESH_TOKEN = 128  # as RefreshRequest: ours are 43
SECOND_STEP = (
    "This account uses two-step verification, which the password grant can't ask for: "
    "sign in with JSON at POST /v1/users/login, then finish with the step it names."
)


class CoreGrants:
    def __init__(
        self,
        login: PasswordLoginDep,
        sessions: SessionsDep,
        strategy: StrategyDep,
        context: ContextDep,
    ) -> None:
        self._login = login
        self._sessions = sessions
        self._strategy = strategy
        self._context = context

    def handlers(self) -> dict[str, GrantHandler]:
        return {PASSWORD: self.password, REFRESH_TOKEN: self.refresh_token}

    async def password(self, grant: GrantRequest) -> JSONResponse:
        """RFC 6749 §4.3: `username` (the email) and `password`, as the login form."""
        try:
            credentials = LoginRequest.model_validate(
                {"username": grant.param("username"), "password": grant.param("password")}
            )
        except ValidationError:
            raise errors.InvalidRequest("The username or password is malformed.") from None
        user = await self._login.check(credentials)
        if await self._login.held(user) is not None:
            # A second step has no place in this grant; what the gate wrote rolls back.
            raise errors.SecondStepRequired(SECOND_STEP)
        return await self._login.start(user, delivery="body")

    async def refresh_token(self, grant: GrantRequest) -> JSONResponse:
        """RFC 6749 §6: the same rotation, grace window and reuse detection as
        `POST /v1/users/refresh`."""
        token = grant.param(REFRESH_TOKEN, max_length=MAX_REFRESH_TOKEN)
        renewed = await self._sessions.refresh(token, grant.client)
        return token_response(renewed, self._strategy, "body", self._context.settings)


CoreGrantsDep = Annotated[CoreGrants, Depends()]


def grant_types_supported(app: FastAPI) -> list[str]:
    """Every grant type the token endpoint serves, the enabled plugins' included (for the
    discovery document's `grant_types_supported`)."""
    return [*CORE_GRANT_TYPES, *app.state.grants]
