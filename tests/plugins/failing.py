"""A plugin whose registration handler fails, to show the change is undone."""

from fastapi import FastAPI, Request

from app.db.models import User
from app.plugins import UserEvents


class Failing:
    name = "failing"

    def setup(self, app: FastAPI, events: UserEvents) -> None:
        async def refuse(user: User, _: Request | None) -> None:
            raise RuntimeError(f"plugin refused {user.email}")

        events.subscribe("user_registered", refuse)


plugin = Failing()
