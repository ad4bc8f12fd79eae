"""Access tokens: fastapi-users' JWT strategy, bound to server-side sessions."""

import uuid

from fastapi_users.authentication import JWTStrategy
from fastapi_users.manager import BaseUserManager

from app.core.security import TokenSettings, create_access_token, verify_token
from app.db.crud import session as crud
from app.db.models import User
from app.services.sessions import utcnow


class AccessTokenStrategy(JWTStrategy[User, uuid.UUID]):
    """Issues JWTs with iss/aud/sub/sid/iat/exp/jti; accepts only tokens carrying all of
    them whose session is still live, checked in the same query that loads the user."""

    def __init__(self, config: TokenSettings) -> None:
        super().__init__(
            secret=config.key,
            lifetime_seconds=config.lifetime_seconds,
            token_audience=[config.audience],
        )
        self.config = config

    def issue(self, user: User, session_id: uuid.UUID) -> str:
        return create_access_token(self.config, subject=str(user.id), session_id=str(session_id))

    async def write_token(self, user: User) -> str:
        raise NotImplementedError("Access tokens belong to a session: use issue(user, sid).")

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, uuid.UUID]
    ) -> User | None:
        if token is None or (claims := verify_token(self.config, token)) is None:
            return None
        try:
            user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
        except (TypeError, ValueError, AttributeError):
            return None
        session = user_manager.user_db.session  # type: ignore[attr-defined]
        return await crud.get_user_in_session(
            session, user_id=user_id, session_id=session_id, now=utcnow()
        )
