"""A plugin used by the tests: one route, and a record of the account events it saw."""

from fastapi import APIRouter, FastAPI, Request

from app.db.models import User
from app.plugins import UserEvents

seen: list[tuple[str, str]] = []


class Greeter:
    name = "greeter"

    def setup(self, app: FastAPI, events: UserEvents) -> None:
        router = APIRouter(prefix="/v1/greeter")

        @router.get("/hello")
        async def hello() -> dict[str, str]:
            return {"hello": "world"}

        app.include_router(router)

        async def remember(event: str, user: User) -> None:
            seen.append((event, user.email))

        async def on_registered(user: User, _: Request | None) -> None:
            await remember("user_registered", user)

        async def on_logged_in(user: User, _: Request | None) -> None:
            await remember("user_logged_in", user)

        events.subscribe("user_registered", on_registered)
        events.subscribe("user_logged_in", on_logged_in)


plugin = Greeter()
