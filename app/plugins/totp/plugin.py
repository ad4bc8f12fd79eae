"""The totp plugin: what it brings to the host."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import (
    ENDS_SIGN_INS_IN_PROGRESS,
    EventBus,
    Host,
    Plugin,
    SecurityEvent,
    ends_sign_ins_in_progress,
    in_background,
    run_periodically,
    utcnow,
)
from app.plugins.totp import notices, queries, routes
from app.plugins.totp.events import (
    EVENT_TYPES,
    MFA_DISABLED,
    MFA_ENABLED,
    MFA_RECOVERY_CODES_REGENERATED,
)
from app.plugins.totp.gate import TotpGate
from app.plugins.totp.settings import TotpSettings

HERE = Path(__file__).parent


@asynccontextmanager
async def lifespan(host: Host, settings: TotpSettings) -> AsyncIterator[None]:
    """Purge expired pending logins, in one process of the deployment at a time."""

    async def purge(session: AsyncSession) -> None:
        await queries.purge_challenges(session, before=utcnow())

    async with in_background(
        run_periodically(
            host.sessionmaker,
            name="totp:purge",
            interval_seconds=settings.purge_interval_seconds,
            work=purge,
        )
    ):
        yield


async def end_pending_logins(event: SecurityEvent, session: AsyncSession) -> None:
    """A login that passed the password before it changed (or before the account was
    switched off or signed out everywhere) can't finish with its second step."""
    if event.user_id is not None and ends_sign_ins_in_progress(event):
        await queries.delete_user_challenges(session, user_id=event.user_id)


def subscribe(events: EventBus, _: TotpSettings) -> None:
    for type in ENDS_SIGN_INS_IN_PROGRESS:
        events.subscribe(type, end_pending_logins)


plugin = Plugin(
    name="totp",
    settings=TotpSettings,
    routers=[routes.router, routes.login_router, routes.admin_router],
    migrations=HERE / "migrations" / "versions",
    static=HERE / "static",
    subscribe=subscribe,
    lifespan=lifespan,
    login_gate=TotpGate,
    event_types=EVENT_TYPES,
    notices={
        MFA_ENABLED: notices.turned_on,
        MFA_DISABLED: notices.turned_off,
        MFA_RECOVERY_CODES_REGENERATED: notices.new_recovery_codes,
    },
)
