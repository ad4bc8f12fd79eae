"""Two requests at once on one account's two-step settings end as if one came after the
other (the worker processes of a deployment don't share memory, only the database)."""

import asyncio
import uuid

from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.plugins.totp.models import TotpRecoveryCode
from app.plugins.totp.sealing import Sealer
from app.plugins.totp.service import TotpService
from app.plugins.totp.settings import TotpSettings
from tests.plugins.totp.conftest import enrolled_user

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def service(session: AsyncSession) -> TotpService:
    sealer = Sealer(secrets_key=bytes(32), recovery_key=b"k" * 32)
    return TotpService(session, TotpSettings(), sealer)


async def recovery_codes_left(engine: AsyncEngine, user_id: uuid.UUID) -> int:
    async with AsyncSession(engine) as session:
        left = await session.scalar(
            select(func.count())
            .select_from(TotpRecoveryCode)
            .where(TotpRecoveryCode.user_id == user_id)
        )
    return left or 0


async def until_one_waits_on_a_lock(engine: AsyncEngine) -> None:
    async with engine.connect() as watcher:
        for _ in range(100):
            if await watcher.scalar(WAITING_ON_A_LOCK):
                return
            await asyncio.sleep(0.05)


async def test_new_recovery_codes_made_twice_at_once_leave_one_set(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)

    async with AsyncSession(db_engine) as first, AsyncSession(db_engine) as second:
        await service(first).new_recovery_codes(ann.user_id)  # not committed yet
        racing = asyncio.create_task(service(second).new_recovery_codes(ann.user_id))
        await until_one_waits_on_a_lock(db_engine)
        await first.commit()
        shown_last = await racing
        await second.commit()

    left = await recovery_codes_left(db_engine, ann.user_id)
    # Two sets would leave the codes of the answer the user didn't keep working.
    assert left == len(shown_last) == 10


async def test_turning_off_while_new_recovery_codes_are_made_leaves_none(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)

    async with AsyncSession(db_engine) as first, AsyncSession(db_engine) as second:
        await service(first).new_recovery_codes(ann.user_id)  # not committed yet
        racing = asyncio.create_task(service(second).disable(ann.user_id))
        await until_one_waits_on_a_lock(db_engine)
        await first.commit()
        await racing
        await second.commit()

    left = await recovery_codes_left(db_engine, ann.user_id)
    # Turning off says the recovery codes are forgotten: none may stay behind.
    assert left == 0
