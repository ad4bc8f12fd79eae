"""email_lookup: finding a user by email among many, our query vs the stock one.

Ours: `lower(email) = $1` (lowered in Python), served by the functional unique index
uq_users_email_lower. Stock: fastapi-users' `lower(email) = lower($1)` against its table,
whose unique index is on plain `email`, so it cannot use it. Both run through their real
code (our crud, fastapi-users' SQLAlchemyUserDatabase) on one scratch database; the SQL
they send is captured and EXPLAIN ANALYZEd for the plan.
"""

import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db.crud.user import get_user_by_email
from bench.database import scratch_database
from bench.report import Result, Row
from bench.stats import median, ratio
from bench.stock_models import Base, StockUser

CHUNK = 100_000
INSERT_BUDGET_SECONDS = 120.0  # stop growing the tables past this (each chunk goes to both)
LOOKUPS = 50
EXPLAINS = 5
FAKE_HASH = "$2b$12$" + "x" * 53
INSERT = """
INSERT INTO {table} (id, email, hashed_password, is_active, is_superuser, is_verified)
SELECT gen_random_uuid(), 'user' || i || '@example.com', '{hash}', true, false, false
FROM generate_series({first}, {last}) AS i
"""

Lookup = Callable[[AsyncSession, str], Awaitable[object]]


async def ours(session: AsyncSession, email: str) -> object:
    return await get_user_by_email(session, email=email)


async def stock(session: AsyncSession, email: str) -> object:
    return await SQLAlchemyUserDatabase(session, StockUser).get_by_email(email)


async def run(*, users: int) -> Result:
    async with scratch_database("bench_lookup") as url:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)  # the stock "user" table
            inserted, insert_seconds = await fill(engine, users)
            return await compare(engine, inserted, insert_seconds)
        finally:
            await engine.dispose()


async def fill(engine: AsyncEngine, users: int) -> tuple[int, float]:
    """Insert up to `users` rows into both tables, chunk by chunk, within the time budget."""
    started, inserted = time.perf_counter(), 0
    while inserted < users and time.perf_counter() - started < INSERT_BUDGET_SECONDS:
        first, last = inserted + 1, min(inserted + CHUNK, users)
        async with engine.begin() as connection:
            for table in ("users", '"user"'):
                await connection.exec_driver_sql(
                    INSERT.format(table=table, hash=FAKE_HASH, first=first, last=last)
                )
        inserted = last
    async with engine.begin() as connection:
        await connection.exec_driver_sql('ANALYZE users, "user"')
    return inserted, time.perf_counter() - started


async def compare(engine: AsyncEngine, users: int, insert_seconds: float) -> Result:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rng = random.Random(20)  # noqa: S311 - picking rows, not secrets
    emails = [f"user{rng.randint(1, users)}@example.com" for _ in range(LOOKUPS)]
    lookups: dict[str, Lookup] = {"ours": ours, "stock": stock}
    for lookup in lookups.values():  # warm the pool, the caches and the statement cache
        await timed(sessions, lookup, emails[0])
    times: dict[str, list[float]] = {name: [] for name in lookups}
    for email in emails:  # interleaved, so both see the same cache and load
        for name, lookup in lookups.items():
            times[name].append(await timed(sessions, lookup, email))
    plans = {
        name: await explain(engine, sessions, lookup, emails[:EXPLAINS])
        for name, lookup in lookups.items()
    }
    client_ours, client_stock = median(times["ours"]), median(times["stock"])
    server_ours, server_stock = plans["ours"][0], plans["stock"][0]
    rows = [
        Row(
            "lookup median, timed in Python (ms)",
            client_ours,
            client_stock,
            ratio(client_stock, client_ours),
            "stock/ours",
        ),
        Row(
            "EXPLAIN ANALYZE execution median (ms)",
            server_ours,
            server_stock,
            ratio(server_stock, server_ours),
            "stock/ours",
        ),
    ]
    notes = [
        f"{users:,} users in each table (inserted with generate_series in "
        f"{insert_seconds:.0f} s, then ANALYZE); {LOOKUPS} lookups each, interleaved; "
        f"{EXPLAINS} EXPLAIN (ANALYZE, TIMING OFF) runs each.",
        f"plan, ours: {plans['ours'][1]}",
        f"plan, stock: {plans['stock'][1]}",
    ]
    return Result("email_lookup", rows, notes)


async def timed(sessions: async_sessionmaker[AsyncSession], lookup: Lookup, email: str) -> float:
    """Milliseconds for one lookup in a fresh session (so no identity-map shortcut)."""
    async with sessions() as session:
        started = time.perf_counter()
        user = await lookup(session, email)
        elapsed = (time.perf_counter() - started) * 1000
    if user is None:
        raise RuntimeError(f"{email} not found")
    return elapsed


async def explain(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    lookup: Lookup,
    emails: list[str],
) -> tuple[float, str]:
    """Median execution time (ms) and the plan of the SQL `lookup` really sends."""
    with captured_sql(engine) as statements:
        async with sessions() as session:
            await lookup(session, emails[0])
    sql, parameters = statements[0]
    if len(parameters) != 1:
        raise RuntimeError(f"expected one bound parameter, got {parameters!r}")
    executions: list[float] = []
    plan: dict[str, Any] = {}
    async with engine.connect() as connection:
        for email in emails:
            result = await connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, (email,)
            )
            output = result.scalar_one()[0]
            executions.append(float(output["Execution Time"]))
            plan = output["Plan"]
    return median(executions), " > ".join(describe(plan))


@contextmanager
def captured_sql(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(
        _conn: object,
        _cursor: object,
        statement: str,
        parameters: Any,
        _context: object,
        _executemany: bool,
    ) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def describe(node: dict[str, Any]) -> Iterator[str]:
    """Plan nodes top-down: "Index Scan using uq_users_email_lower on users", ..."""
    text = ("Parallel " if node.get("Parallel Aware") else "") + node["Node Type"]
    if index := node.get("Index Name"):
        text += f" using {index}"
    if relation := node.get("Relation Name"):
        text += f" on {relation}"
    if workers := node.get("Workers Planned"):
        text += f" ({workers} workers)"
    yield text
    for child in node.get("Plans", []):
        yield from describe(child)
