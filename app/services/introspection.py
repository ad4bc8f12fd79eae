"""Token introspection (RFC 7662): is this token live right now, and whose is it?

Another backend holding a service key asks about a token it was handed. The answer is
`active: true` only while the token would be accepted here: signature, issuer, audience
and expiry as every request checks them, *and* its session not ended (logout, password
change, deactivation, deletion...), looked up in the database on every call, so a logout
shows at once where a JWT's signature alone would stay valid until `exp`.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import TokenSettings, refresh_token_digest, verify_token_reloading
from app.db.crud import session as crud
from app.db.models import User
from app.services.sessions import as_utc, utcnow

MAX_TOKEN_LENGTH = 8192  # far above any token we issue; longer input isn't worth decoding


def inactive() -> dict[str, Any]:
    # RFC 7662, 2.2: nothing but `active` about a token that isn't live.
    return {"active": False}


def roles_of(user: User) -> list[str]:
    """The user's role names for the `roles` member of an active answer, as they are now:
    the sorted copy (users.roles) loaded with the user, so this reads nothing more."""
    return list(user.roles)


class Introspection:
    def __init__(self, session: AsyncSession, tokens: TokenSettings) -> None:
        self.session = session
        self.tokens = tokens

    async def introspect(self, token: str) -> dict[str, Any]:
        """The RFC 7662 answer for `token`. Its shape says what it is (a JWT can't be one
        of our refresh tokens), so a `token_type_hint` is never needed."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return inactive()
        if token.count(".") == 2:
            return await self._access_token(token)
        return await self._refresh_token(token)

    async def _access_token(self, token: str) -> dict[str, Any]:
        claims = await verify_token_reloading(self.tokens, token)
        if claims is None:
            return inactive()
        try:
            user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
        except (TypeError, ValueError, AttributeError):
            return inactive()
        user = await crud.get_user_in_session(
            self.session, user_id=user_id, session_id=session_id, now=utcnow()
        )
        if user is None or not user.is_active:
            return inactive()
        return {
            "active": True,
            "token_type": "access_token",
            **{name: claims[name] for name in ("sub", "sid", "exp", "iat", "iss", "aud", "jti")},
            "roles": roles_of(user),
        }

    async def _refresh_token(self, token: str) -> dict[str, Any]:
        """A refresh token is active while it is the session's current one: a rotated
        token still works for a few seconds (two tabs refreshing) but is already replaced,
        so it is reported inactive. Looking never counts as a use."""
        found = await crud.find_refresh_token(self.session, digest=refresh_token_digest(token))
        if found is None:
            return inactive()
        stored, auth_session, user = found
        now = utcnow()
        if (
            stored.rotated_at is not None
            or as_utc(stored.expires_at) <= now
            or auth_session.revoked_at is not None
            or as_utc(auth_session.expires_at) <= now
            or not user.is_active
        ):
            return inactive()
        expires_at = min(as_utc(stored.expires_at), as_utc(auth_session.expires_at))
        return {
            "active": True,
            "token_type": "refresh_token",
            "sub": str(user.id),
            "sid": str(auth_session.id),
            "exp": int(expires_at.timestamp()),
            "roles": roles_of(user),
        }
