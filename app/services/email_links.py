"""Password reset and email verification by emailed, single-use links.

A link's token names its action and carries a fingerprint of the account state it was
issued for (the password hash and the email, or the email), so a reset link dies once the
password or the email changes and a verification link once the email does. A reset locks
the account's row before comparing, so of several requests with one link only the first
can match: the others wait, then see the new password hash.
"""

import uuid

from fastapi import Request

from app.context import AppContext
from app.core import errors
from app.core.events import EventType
from app.core.security import create_action_token, fingerprint, read_action_token
from app.db.models import User
from app.services.mail import Mail, reset_password_mail, verify_email_mail
from app.services.users import UserManager

RESET_PASSWORD = "reset-password"  # noqa: S105 (an action name)
VERIFY_EMAIL = "verify-email"


class EmailLinks:
    def __init__(self, manager: UserManager, context: AppContext) -> None:
        self.manager = manager
        self.context = context

    async def password_reset_mail(
        self, email: str, *, actor_id: uuid.UUID | None = None
    ) -> Mail | None:
        """The reset mail for an active account with this email; None if there is none.
        `actor_id`: the superuser who asked for it on the account's behalf."""
        user = await self.manager.user_db.get_by_email(email)
        if user is None or not user.is_active:
            return None
        # After the answer: a write here would make a known email's answer slower.
        await self.manager.events.emit_after_answer(
            EventType.PASSWORD_RESET_REQUESTED, user_id=user.id, actor_id=actor_id
        )
        token = self._token(
            RESET_PASSWORD,
            user,
            reset_state(user),
            self.context.settings.reset_token_lifetime_seconds,
        )
        return reset_password_mail(self.context.settings, to=user.email, token=token)

    async def reset_password(
        self, token: str, password: str, request: Request | None = None
    ) -> User:
        """Set a new password from a reset link; every session of the account ends."""
        user, state = await self._user_for(
            token, RESET_PASSWORD, errors.ResetTokenInvalid, lock=True
        )
        if reset_state(user) != state or not user.is_active:
            raise errors.ResetTokenInvalid()
        try:
            return await self.manager.change(
                user, {"password": password}, request, password_reset=True
            )
        except errors.InvalidNewPassword as exc:
            raise errors.InvalidResetPassword(exc.message, reason=exc.reason) from exc

    def verification_mail(self, user: User) -> Mail:
        token = self._token(
            VERIFY_EMAIL,
            user,
            fingerprint(user.email),
            self.context.settings.verify_token_lifetime_seconds,
        )
        return verify_email_mail(self.context.settings, to=user.email, token=token)

    async def verify_email(self, token: str, request: Request | None = None) -> User:
        """Mark the email verified; a link for an address the account no longer has fails."""
        user, state = await self._user_for(token, VERIFY_EMAIL, errors.VerifyTokenInvalid)
        if fingerprint(user.email) != state:
            raise errors.VerifyTokenInvalid()
        if user.is_verified:
            return user
        return await self.manager.change(user, {"is_verified": True}, request)

    def _token(self, action: str, user: User, state: str, lifetime_seconds: int) -> str:
        return create_action_token(
            self.context.tokens,
            action=action,
            subject=str(user.id),
            fingerprint=state,
            lifetime_seconds=lifetime_seconds,
        )

    async def _user_for(
        self, token: str, action: str, invalid: type[errors.AppError], *, lock: bool = False
    ) -> tuple[User, str]:
        """The token's user (row-locked with `lock`) and the account-state fingerprint
        the token was issued for."""
        claims = read_action_token(self.context.tokens, token, action=action)
        if claims is None:
            raise invalid()
        try:
            user_id = uuid.UUID(claims["sub"])
        except (TypeError, ValueError, AttributeError):
            raise invalid() from None
        user_db = self.manager.user_db
        user = await (user_db.lock(user_id) if lock else user_db.get(user_id))
        if user is None:
            raise invalid()
        return user, str(claims["fpt"])


def reset_state(user: User) -> str:
    """What a reset link is bound to: the password it replaces and the address it went to."""
    return fingerprint(user.hashed_password, user.email)
