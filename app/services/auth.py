"""Access tokens: fastapi-users' JWT strategy with the claims and checks we require."""

import uuid

from fastapi_users import exceptions as fastapi_users_exceptions
from fastapi_users.authentication import JWTStrategy
from fastapi_users.manager import BaseUserManager

from app.core.security import TokenSettings, create_access_token, verify_token
from app.db.models import User


class AccessTokenStrategy(JWTStrategy[User, uuid.UUID]):
    """Issues JWTs with iss/aud/sub/iat/exp/jti and accepts only tokens that carry all of them."""

    def __init__(self, config: TokenSettings) -> None:
        super().__init__(
            secret=config.key,
            lifetime_seconds=config.lifetime_seconds,
            token_audience=[config.audience],
        )
        self.config = config

    async def write_token(self, user: User) -> str:
        return create_access_token(self.config, subject=str(user.id))

    async def read_token(
        self, token: str | None, user_manager: BaseUserManager[User, uuid.UUID]
    ) -> User | None:
        if token is None or (claims := verify_token(self.config, token)) is None:
            return None
        try:
            user_id = user_manager.parse_id(claims["sub"])
        except fastapi_users_exceptions.InvalidID:
            return None
        return await user_manager.user_db.get(user_id)
