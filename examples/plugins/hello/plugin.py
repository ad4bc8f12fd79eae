"""The hello plugin: counts each user's sign-ins and greets them with the count."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import (
    UNAUTHORIZED,
    CurrentUser,
    EventBus,
    EventType,
    Plugin,
    SecurityEvent,
    SessionDep,
    settings_of,
)
from examples.plugins.hello.models import HelloSignIn
from examples.plugins.hello.settings import HelloSettings

HERE = Path(__file__).parent
router = APIRouter(prefix="/v1/hello", tags=["hello"])


class Greeting(BaseModel):
    message: str
    sign_ins: int


@router.get("", response_model=Greeting, responses=UNAUTHORIZED)
async def greet(
    user: CurrentUser,
    session: SessionDep,
    settings: Annotated[HelloSettings, Depends(settings_of(HelloSettings))],
) -> Greeting:
    """A greeting with the number of times you signed in."""
    count = await session.scalar(
        select(func.count()).select_from(HelloSignIn).where(HelloSignIn.user_id == user.id)
    )
    return Greeting(message=f"{settings.greeting}, {user.email}!", sign_ins=count or 0)


async def record_sign_in(event: SecurityEvent, session: AsyncSession) -> None:
    # In the sign-in's own transaction: if this fails, the sign-in fails with it.
    if event.user_id is not None:
        session.add(
            HelloSignIn(user_id=event.user_id, method=event.detail["method"], at=event.occurred_at)
        )
        await session.flush()


def subscribe(events: EventBus, _: HelloSettings) -> None:
    events.subscribe(EventType.SESSION_STARTED, record_sign_in)


plugin = Plugin(
    name="hello",
    settings=HelloSettings,
    routers=[router],
    migrations=HERE / "migrations" / "versions",
    static=HERE / "static",
    subscribe=subscribe,
)
