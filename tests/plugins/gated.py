"""A plugin used by the tests: a login gate that holds the logins of `held-*` accounts and
records every user it was asked about."""

from typing import Any

from fastapi import Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import Plugin, PluginSettings, User

asked: list[str] = []


class Gate:
    def __init__(self, _: PluginSettings) -> None:
        pass

    async def hold(
        self, user: User, request: Request, session: AsyncSession
    ) -> Response | dict[str, Any] | None:
        asked.append(user.email)
        if user.email.startswith("held-dict"):
            return {"held": True}
        if user.email.startswith("held-response"):
            return PlainTextResponse("held", status_code=202)
        return None


plugin = Plugin(name="gated", settings=PluginSettings, login_gate=Gate)
