"""The qr_login plugin: what it brings to the host."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import Host, Plugin, in_background, run_periodically
from app.plugins.qr_login import routes
from app.plugins.qr_login.grant import DeviceCodeGrant
from app.plugins.qr_login.schemas import DEVICE_CODE_GRANT
from app.plugins.qr_login.service import QrLoginService
from app.plugins.qr_login.settings import QrLoginSettings

HERE = Path(__file__).parent


@asynccontextmanager
async def lifespan(host: Host, settings: QrLoginSettings) -> AsyncIterator[None]:
    """Purge expired requests, in one process of the deployment at a time."""

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


plugin = Plugin(
    name="qr_login",
    settings=QrLoginSettings,
    routers=[routes.router],
    migrations=HERE / "migrations" / "versions",
    static=HERE / "static",
    lifespan=lifespan,
    grants={DEVICE_CODE_GRANT: DeviceCodeGrant},
)
