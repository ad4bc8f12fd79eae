"""The clean-up rounds: sessions and audit events past retention, one worker at a time."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.db.crud.locks import lock_key
from app.db.engine import create_engine, create_sessionmaker
from app.services.maintenance import PURGE_LOCK, Purged, purge_round, seconds_to_next_round
from tests.conftest import make_settings, run_migrations


@pytest.fixture
async def worker_sessionmaker(
    migrated_database_url: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """What a worker process has: its own engine on the shared database."""
    engine = create_engine(make_settings(migrated_database_url))
    yield create_sessionmaker(engine)
    await engine.dispose()


async def add_event(db_engine: AsyncEngine, *, days_ago: int) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO audit_events (id, occurred_at, type, detail) "
                "VALUES (:id, :at, 'login_failed', '{}')"
            ),
            {"id": uuid.uuid4(), "at": datetime.now(UTC) - timedelta(days=days_ago)},
        )


async def days_left(db_engine: AsyncEngine) -> list[int]:
    async with db_engine.connect() as connection:
        rows = await connection.scalars(
            text("SELECT occurred_at FROM audit_events ORDER BY occurred_at DESC")
        )
        return [(datetime.now(UTC) - moment).days for moment in rows]


def retaining(settings: Settings, days: int) -> Settings:
    return settings.model_copy(update={"audit_retention_days": days})


async def test_a_round_deletes_audit_events_past_retention_only(
    worker_sessionmaker: async_sessionmaker[AsyncSession],
    db_engine: AsyncEngine,
    settings: Settings,
) -> None:
    for days_ago in (1, 29, 31, 400):
        await add_event(db_engine, days_ago=days_ago)

    purged = await purge_round(worker_sessionmaker, retaining(settings, 30))

    assert purged == Purged(sessions=0, audit_events=2)
    assert await days_left(db_engine) == [1, 29]


async def test_the_default_retention_is_180_days(
    worker_sessionmaker: async_sessionmaker[AsyncSession],
    db_engine: AsyncEngine,
    settings: Settings,
) -> None:
    for days_ago in (179, 181):
        await add_event(db_engine, days_ago=days_ago)

    await purge_round(worker_sessionmaker, settings)

    assert settings.audit_retention_days == 180
    assert await days_left(db_engine) == [179]


async def test_a_round_is_skipped_while_another_worker_runs_one(
    worker_sessionmaker: async_sessionmaker[AsyncSession],
    db_engine: AsyncEngine,
    settings: Settings,
) -> None:
    await add_event(db_engine, days_ago=400)

    async with db_engine.connect() as other_worker, other_worker.begin():
        # Another worker is mid-round: it holds the round's lock for its transaction.
        await other_worker.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(PURGE_LOCK)}
        )
        skipped = await purge_round(worker_sessionmaker, settings)
        assert await days_left(db_engine) == [400]

    after = await purge_round(worker_sessionmaker, settings)

    assert skipped is None
    assert after == Purged(sessions=0, audit_events=1)
    assert await days_left(db_engine) == []


async def test_of_two_concurrent_rounds_only_one_does_the_work(
    migrated_database_url: str, db_engine: AsyncEngine, settings: Settings
) -> None:
    await add_event(db_engine, days_ago=400)
    workers = [create_engine(make_settings(migrated_database_url)) for _ in range(2)]
    try:
        async with db_engine.connect() as blocker, blocker.begin():
            # Hold the first round inside its work (its DELETE waits for this lock), so
            # the second one certainly starts while the first is running.
            await blocker.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))
            first = asyncio.create_task(purge_round(create_sessionmaker(workers[0]), settings))
            await _wait_until_waiting_on_a_lock(db_engine)
            second = await asyncio.wait_for(
                purge_round(create_sessionmaker(workers[1]), settings), timeout=30
            )
        results = [await asyncio.wait_for(first, timeout=30), second]
    finally:
        for engine in workers:
            await engine.dispose()

    assert results == [Purged(sessions=0, audit_events=1), None]
    assert await days_left(db_engine) == []


async def _wait_until_waiting_on_a_lock(db_engine: AsyncEngine) -> None:
    for _ in range(300):
        async with db_engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the first round never reached its DELETE")


async def test_on_sqlite_a_round_simply_runs(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await anyio.to_thread.run_sync(run_migrations, url)
    engine = create_engine(make_settings(url))
    try:
        purged = await purge_round(create_sessionmaker(engine), settings)
    finally:
        await engine.dispose()

    assert purged == Purged(sessions=0, audit_events=0)


@pytest.mark.parametrize(
    ("interval", "now", "expected"),
    [(3600, 7200.0, 3600.0), (3600, 7201.5, 3598.5), (60, 59.0, 1.0), (1, 10.25, 0.75)],
)
def test_every_worker_wakes_for_a_round_at_the_same_moment(
    interval: int, now: float, expected: float
) -> None:
    assert seconds_to_next_round(interval, now) == pytest.approx(expected)
    assert (now + seconds_to_next_round(interval, now)) % interval == pytest.approx(0)
