"""The login gate: a correct password of an account with two-step on gets an mfa_token
instead of tokens."""

from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import User
from app.plugins.totp.schemas import MfaRequired
from app.plugins.totp.service import METHODS, hold_login
from app.plugins.totp.settings import TotpSettings


class TotpGate:
    def __init__(self, settings: TotpSettings) -> None:
        self.settings = settings

    async def hold(
        self, user: User, request: Request, session: AsyncSession
    ) -> dict[str, Any] | None:
        held = await hold_login(session, self.settings, user_id=user.id)
        if held is None:
            return None
        body = MfaRequired(
            mfa_token=held.mfa_token, methods=list(METHODS), expires_in=held.expires_in
        )
        return body.model_dump()
