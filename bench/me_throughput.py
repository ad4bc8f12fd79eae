"""me_throughput: how many GET /me a single worker serves, and what each one costs.

wrk (or hey) keeps 16 connections busy against each app in a subprocess, in phases
stock, ours, ours, stock. Then each app runs in-process with SQLAlchemy's engine and
pool events counted, to show how many SQL statements and round trips one /me costs.
"""

import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from app.core.config import Settings
from app.main import create_app
from bench.apps import ABBA, OURS, STOCK, App, import_stock_app, log_in, serving_both, sign_up
from bench.load import Load, Request, combine, generate_load
from bench.report import Result, Row
from bench.stats import ratio

BCRYPT_ROUNDS = 4  # only sign-up and log-in hash here; keep them cheap
CONNECTIONS = 16
THREADS = 2
COUNTED_REQUESTS = 20
# engine/pool event -> what it counts
EVENTS = {
    "before_cursor_execute": "SQL statements",
    "begin": "transactions begun",
    "commit": "commits",
    "rollback": "rollbacks",
    "checkout": "pool checkouts",
    "ping": "pre-pings",  # not an event: counted by wrapping the dialect's do_ping
}
# Server round trips each one costs with asyncpg: a pre-ping is BEGIN, ";", ROLLBACK.
ROUND_TRIPS = {"before_cursor_execute": 1, "begin": 1, "commit": 1, "rollback": 1, "ping": 3}


async def run(*, seconds: float) -> Result:
    phases: dict[str, list[Load]] = {STOCK.name: [], OURS.name: []}
    work: dict[str, dict[str, float]] = {}
    async with serving_both(bcrypt_rounds=BCRYPT_ROUNDS) as servers:
        requests: dict[str, Request] = {}
        for app in (STOCK, OURS):
            base_url = servers[app.name][0].base_url
            async with httpx.AsyncClient(base_url=base_url) as client:
                token = await sign_up(client, app)
            headers = {"Authorization": f"Bearer {token}"}
            requests[app.name] = Request(url=base_url + app.me_path, headers=headers)
        for app in ABBA:
            load = await generate_load(
                requests[app.name], connections=CONNECTIONS, seconds=seconds / 2, threads=THREADS
            )
            phases[app.name].append(load.checked(f"{app.name} GET {app.me_path}"))
        for app in (STOCK, OURS):
            url = servers[app.name][1]
            in_process = (
                our_app(url) if app is OURS else import_stock_app(url, bcrypt_rounds=BCRYPT_ROUNDS)
            )
            work[app.name] = await count_database_work(in_process, app)
    return summarise({name: combine(loads) for name, loads in phases.items()}, work)


def our_app(database_url: str) -> FastAPI:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        bcrypt_rounds=BCRYPT_ROUNDS,
        rate_limits_enabled=False,
        plugins=[],
        cors_origins=[],
        log_level="ERROR",
        secret_key_file=Path("/nonexistent/never-used"),
    )
    return create_app(settings)


async def count_database_work(app: FastAPI, target: App) -> dict[str, float]:
    """Average engine and pool events per authenticated GET /me, for every event in EVENTS."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {await log_in(client, target)}"}
            with counting() as counts:
                for _ in range(COUNTED_REQUESTS):
                    (await client.get(target.me_path, headers=headers)).raise_for_status()
    per_request = {name: counts[name] / COUNTED_REQUESTS for name in EVENTS}
    per_request["round_trips"] = sum(per_request[name] * n for name, n in ROUND_TRIPS.items())
    return per_request


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """Count EVENTS on every engine and pool in this process while the block runs."""
    counts: Counter[str] = Counter()
    listeners = []
    for name in set(EVENTS) - {"ping"}:

        def listener(*_args: object, _name: str = name) -> None:
            counts[_name] += 1

        target = Pool if name == "checkout" else Engine
        event.listen(target, name, listener)
        listeners.append((target, name, listener))
    do_ping: Callable[[PGDialect_asyncpg, Any], bool] = PGDialect_asyncpg.do_ping

    def counted_ping(dialect: PGDialect_asyncpg, dbapi_connection: Any) -> bool:
        counts["ping"] += 1
        return do_ping(dialect, dbapi_connection)

    try:
        with patch.object(PGDialect_asyncpg, "do_ping", counted_ping):
            yield counts
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


def summarise(loads: dict[str, Load], work: dict[str, dict[str, float]]) -> Result:
    ours, stock = loads["ours"], loads["stock"]
    rows = [
        Row(
            "/me requests/s",
            ours.per_second,
            stock.per_second,
            ratio(ours.per_second, stock.per_second),
            "ours/stock",
        ),
        Row(
            "/me p50 (ms)",
            ours.p50_ms,
            stock.p50_ms,
            ratio(stock.p50_ms, ours.p50_ms),
            "stock/ours",
        ),
        Row(
            "/me p99 (ms)",
            ours.p99_ms,
            stock.p99_ms,
            ratio(stock.p99_ms, ours.p99_ms),
            "stock/ours",
        ),
        Row(
            "SQL statements per /me",
            work["ours"]["before_cursor_execute"],
            work["stock"]["before_cursor_execute"],
        ),
        Row(
            "database round trips per /me",
            work["ours"]["round_trips"],
            work["stock"]["round_trips"],
            ratio(work["stock"]["round_trips"], work["ours"]["round_trips"]),
            "stock/ours",
        ),
    ]
    notes = [
        f"{ours.tool}, {THREADS} threads, {CONNECTIONS} connections, {ours.seconds:.0f} s per "
        f"app in phases stock, ours, ours, stock (latencies: mean of the two phases), one "
        f"uvicorn worker each; {ours.requests:,} requests ours ({ours.failures} failed), "
        f"{stock.requests:,} stock ({stock.failures} failed).",
        *(
            f"per /me in-process ({COUNTED_REQUESTS} requests), {name}: "
            + ", ".join(f"{counts[event_name]:g} {label}" for event_name, label in EVENTS.items())
            for name, counts in work.items()
        ),
    ]
    return Result("me_throughput", rows, notes)
