"""A plugin's background work (`run_periodically` in the host API): one process of the
deployment at a time, as the issue asks of an expiry sweeper such as qr_login's."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.crud.locks import lock_key
from app.db.engine import create_sessionmaker
from app.plugins.api import in_background, run_periodically

NAME = "tests:periodic"


async def test_a_round_is_skipped_while_another_process_runs_one(db_engine: AsyncEngine) -> None:
    rounds: list[int] = []

    async def work(session: AsyncSession) -> None:
        rounds.append(await session.scalar(text("SELECT 1")))

    periodic = run_periodically(
        create_sessionmaker(db_engine), name=NAME, interval_seconds=1, work=work
    )
    async with db_engine.connect() as other_process, other_process.begin():
        # Another process is mid-round: it holds the round's lock for its transaction.
        await other_process.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(NAME)}
        )
        async with in_background(periodic):
            await asyncio.sleep(2.5)  # two rounds or more come and are skipped
            skipped = list(rounds)
        after = run_periodically(
            create_sessionmaker(db_engine), name=NAME, interval_seconds=1, work=work
        )
    async with in_background(after):
        for _ in range(100):  # the next round, once the lock is free (the timeout bounds this)
            if rounds:
                break
            await asyncio.sleep(0.1)

    assert skipped == []
    assert rounds  # and ran once it could
