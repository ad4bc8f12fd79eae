"""login_scale: does log-in slow down as the users table grows?

Ours, one worker, on its own scratch database: log-in p50 with 1,000 users in the table,
then again after filling it to 1,000,000 (generate_series, the same rows email_lookup
inserts) and ANALYZE. bcrypt at cost 4, so the hash doesn't hide the lookup.
"""

import time
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.apps import EMAIL, OURS, PASSWORD, serving, sign_up
from bench.email_lookup import CHUNK, FAKE_HASH, INSERT, INSERT_BUDGET_SECONDS
from bench.report import Result, Row, target
from bench.stats import percentile, ratio

BCRYPT_ROUNDS = 4
SMALL = 1_000
LOGINS = 100
MAX_SLOWDOWN = 1.1


async def run(*, users: int) -> Result:
    async with serving(OURS, bcrypt_rounds=BCRYPT_ROUNDS) as (server, url):
        engine = create_async_engine(url)
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30.0) as client:
                await sign_up(client, OURS)
                await seed(engine, 1, SMALL - 1)  # with the bench user: SMALL
                small = await login_times(client)
                started = time.perf_counter()
                filled = await seed(engine, SMALL, users - 1) + SMALL
                fill_seconds = time.perf_counter() - started
                large = await login_times(client)
        finally:
            await engine.dispose()
    slowdown = ratio(percentile(large, 50), percentile(small, 50))
    rows = [
        Row(f"login p50 (ms), {SMALL:,} users", percentile(small, 50)),
        Row(
            f"login p50 (ms), {filled:,} users",
            percentile(large, 50),
            ratio=slowdown,
            ratio_label=f"{filled // 1000:,}k/{SMALL // 1000}k",
            target=target(f"≤ {MAX_SLOWDOWN}× with 1k", slowdown <= MAX_SLOWDOWN),
        ),
    ]
    notes = [
        f"{LOGINS} logins one after another at each size (bcrypt cost {BCRYPT_ROUNDS}); "
        f"{filled - SMALL:,} users added with generate_series in {fill_seconds:.0f} s, "
        "then ANALYZE."
    ]
    return Result("login_scale", rows, notes)


async def seed(engine: AsyncEngine, first: int, last: int) -> int:
    """Insert users `first`..`last` in chunks within the budget; returns how many."""
    started, inserted = time.perf_counter(), 0
    while first + inserted <= last and time.perf_counter() - started < INSERT_BUDGET_SECONDS:
        low = first + inserted
        high = min(low + CHUNK - 1, last)
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                INSERT.format(table="users", hash=FAKE_HASH, first=low, last=high)
            )
        inserted += high - low + 1
    async with engine.begin() as connection:
        await connection.exec_driver_sql("ANALYZE users")
    return inserted


async def login_times(client: httpx.AsyncClient) -> list[float]:
    form = urlencode({"username": EMAIL, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    times = []
    for _ in range(LOGINS):
        started = time.perf_counter()
        response = await client.post(OURS.login_path, content=form, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times
