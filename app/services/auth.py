"""Access tokens: fastapi-users' JWT strategy, bound to server-side sessions."""

import uuid
from typing import Any

from fastapi_users.authentication import JWTStrategy
from fastapi_users.manager import BaseUserManager

from app.core.log_context import bind_user
from app.core.security import (
    TokenSettings,
    create_access_token,
    verify_token,
    verify_token_reloading,
)
from app.db.crud import session as crud
from app.db.models import User
from app.services.sessions import Client, SessionService, utcnow


class AccessTokenStrategy(JWTStrategy[User, uuid.UUID]):
    """Issues JWTs with iss/aud/sub/sid/iat/exp/jti; accepts only tokens carrying all of
    them whose session is still live, checked in the same query that loads the user.

    fastapi-users' AuthenticationBackend.login/logout (its auth and OAuth routers) call
    write_token/destroy_token: here they start and end a real session, where the stock
    JWT strategy would sign a session-less token and could not revoke anything. The app's
    own routes start sessions through SessionService, so a request's strategy usually has
    none bound: reading a token needs only the key and the user manager's database session.

    One strategy per request: it keeps the claims it verified, so the routes that need the
    session id don't decode the token a second time.
    """

    def __init__(self, config: TokenSettings, sessions: SessionService | None = None) -> None:
        super().__init__(
            secret=config.key,
            lifetime_seconds=config.lifetime_seconds,
            token_audience=[config.audience],
        )
        self.config = config
        self._sessions = sessions
        self._verified: tuple[str, dict[str, Any]] | None = None

    @property
    def sessions(self) -> SessionService:
        if self._sessions is None:
            raise RuntimeError("this strategy only reads tokens: bind a SessionService to it")
        return self._sessions

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims read_token verified for `token` in this request, if it did."""
        if self._verified is None or self._verified[0] != token:
            return None
        return self._verified[1]

    def issue(self, user: User, session_id: uuid.UUID) -> str:
        return create_access_token(
            self.config, subject=str(user.id), session_id=str(session_id), roles=user.roles
        )

    async def write_token(self, user: User) -> str:
        """A token in a new session. The bearer transport has no room for a refresh token,
        so that session is listed (and can be signed out) until it expires unused."""
        grant = await self.sessions.start(user, Client(user_agent=None, ip_address=None))
        return self.issue(user, grant.session_id)

    async def destroy_token(self, token: str, user: User) -> None:
        """End the token's session (logout through fastapi-users' backend)."""
        claims = verify_token(self.config, token)
        if claims is None or claims["sub"] != str(user.id):
            return
        try:
            session_id = uuid.UUID(claims["sid"])
        except (TypeError, ValueError, AttributeError):
            return
        await self.sessions.revoke(user.id, session_id)

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, uuid.UUID]
    ) -> User | None:
        if token is None:
            return None
        claims = await verify_token_reloading(self.config, token)
        if claims is None:
            return None
        try:
            user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
        except (TypeError, ValueError, AttributeError):
            return None
        session = user_manager.user_db.session  # type: ignore[attr-defined]
        bind_user(user_id, session_id)  # into the log lines, even if the session has ended
        user = await crud.get_user_in_session(
            session, user_id=user_id, session_id=session_id, now=utcnow()
        )
        if user is not None:
            self._verified = (token, claims)
        return user
