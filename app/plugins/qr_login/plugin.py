"""The qr_login plugin: what it brings to the host."""

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
    serves_production,
    utcnow,
)
from app.plugins.qr_login import queries, routes
from app.plugins.qr_login.grant import DeviceCodeGrant
from app.plugins.qr_login.schemas import DEVICE_CODE_GRANT
from app.plugins.qr_login.service import QrLoginService
from app.plugins.qr_login.settings import QrLoginSettings

HERE = Path(__file__).parent


@asynccontextmanager
async def lifespan(host: Host, settings: QrLoginSettings) -> AsyncIterator[None]:
    """Purge expired requests, in one process of the deployment at a time."""
    base_url = settings.public_base_url
    if host.settings.is_production and base_url and not serves_production(base_url):
        # PUBLIC_URL is held to this; the QR code's own address must not undo it.
        raise ValueError(
            "QR_LOGIN_PUBLIC_BASE_URL must be an https URL when APP_ENV=production "
            "(plain http only for localhost, 127.0.0.1 or ::1)"
        )

    async def purge(session: AsyncSession) -> None:
        await QrLoginService(session, settings).purge()

    async with in_background(
        run_periodically(
            host.sessionmaker,
            name="qr_login:purge",
            interval_seconds=settings.purge_interval_seconds,
            work=purge,
        )
    ):
        yield


async def deny_uncollected(event: SecurityEvent, session: AsyncSession) -> None:
    """A device approved before the password changed (or before the account was switched
    off or signed out everywhere) must not get a session after it."""
    if event.user_id is not None and ends_sign_ins_in_progress(event):
        await queries.deny_uncollected(session, approver_id=event.user_id, now=utcnow())


def subscribe(events: EventBus, _: QrLoginSettings) -> None:
    for type in ENDS_SIGN_INS_IN_PROGRESS:
        events.subscribe(type, deny_uncollected)


plugin = Plugin(
    name="qr_login",
    settings=QrLoginSettings,
    routers=[routes.router],
    migrations=HERE / "migrations" / "versions",
    static=HERE / "static",
    subscribe=subscribe,
    lifespan=lifespan,
    grants={DEVICE_CODE_GRANT: DeviceCodeGrant},
    # RFC 8628 §4: where a standard client that reads the discovery document starts.
    discovery={"device_authorization_endpoint": f"{routes.router.prefix}/start"},
)
