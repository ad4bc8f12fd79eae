"""me_throughput: how many GET /me a worker serves, against the floor, and what each costs.

wrk (or hey) keeps 16 connections busy against each app in a subprocess, in phases
floor, stock, ours, ours, stock, floor; then 4 connections against the floor and ours
(floor, ours, ours, floor) for latency when the server is not saturated; then ours with
one worker against ours with two (WEB_CONCURRENCY=2). The floor (bench/floor_app.py)
serves our database with our key and must answer with the same JSON. Then ours and stock
run in-process with SQLAlchemy's engine and pool events counted, to show how many SQL
statements and round trips one /me costs, and ours and the floor are called directly
(bench/asgi_cpu.py) for the CPU one /me costs each, which the machine's load moves less
than wrk's figures.
"""

import contextlib
import importlib
import io
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import asyncpg  # type: ignore[import-untyped]
import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import Pool

from app.core.config import Settings
from app.main import create_app
from bench.apps import (
    FLOOR_MODULE,
    OURS,
    STOCK,
    App,
    floor_env,
    import_stock_app,
    log_in,
    serving_with_floor,
    sign_up,
)
from bench.asgi_cpu import cpu_ms_per_request
from bench.load import Load, Request, combine, generate_load
from bench.report import Result, Row, target
from bench.stats import ratio

BCRYPT_ROUNDS = 4  # only sign-up and log-in hash here; keep them cheap
CONNECTIONS = 16
LIGHT_CONNECTIONS = 4
THREADS = 2
WORKERS = 2  # the second run of ours: the Procfile's web line with WEB_CONCURRENCY=2
COUNTED_REQUESTS = 20
CPU_REQUESTS = 2_000  # per round, for the in-process CPU per /me
# Unrecorded load on every server before the phases: each worker opens its pool's
# connections and warms its caches, so no app's first phase pays for its cold start.
WARM_UP_SECONDS = 1.0
# engine/pool event -> what it counts
EVENTS = {
    "before_cursor_execute": "SQL statements",
    "begin": "BEGINs sent",
    "commit": "COMMITs sent",
    "rollback": "ROLLBACKs sent",
    "autocommit": "autocommit begin/commit events (nothing sent)",
    "checkout": "pool checkouts",
    "ping": "pre-pings",  # not an event: counted by wrapping the dialect's do_ping
}
# Server round trips each one costs with asyncpg: a pre-ping is BEGIN, ";", ROLLBACK.
ROUND_TRIPS = {"before_cursor_execute": 1, "begin": 1, "commit": 1, "rollback": 1, "ping": 3}
FLOOR = "floor"
TWO = f"ours×{WORKERS}"
FLOOR_TWO = f"floor×{WORKERS}"


async def run(*, seconds: float) -> Result:
    phase = seconds / 2
    loads: dict[str, list[Load]] = {}
    light: dict[str, list[Load]] = {}
    scaled: dict[str, list[Load]] = {}
    work: dict[str, dict[str, float]] = {}
    cpu: dict[str, float] = {}
    async with serving_with_floor(bcrypt_rounds=BCRYPT_ROUNDS, our_workers=(WORKERS,)) as servers:
        requests: dict[str, Request] = {}
        for app in (STOCK, OURS):
            base_url = servers[app.name][0].base_url
            async with httpx.AsyncClient(base_url=base_url) as client:
                token = await sign_up(client, app)
            headers = {"Authorization": f"Bearer {token}"}
            requests[app.name] = Request(url=base_url + app.me_path, headers=headers)
        for name in (FLOOR, TWO, FLOOR_TWO):  # the same user and token as ours
            requests[name] = Request(
                url=servers[name][0].base_url + OURS.me_path, headers=requests[OURS.name].headers
            )
        await same_answer(requests[OURS.name], requests[FLOOR])
        for request in requests.values():
            await generate_load(
                request, connections=CONNECTIONS, seconds=WARM_UP_SECONDS, threads=THREADS
            )

        async def measure(into: dict[str, list[Load]], order: Sequence[str], n: int) -> None:
            for name in order:
                load = await generate_load(
                    requests[name], connections=n, seconds=phase, threads=THREADS
                )
                into.setdefault(name, []).append(load.checked(f"{name} GET /me, {n} connections"))

        await measure(
            loads, (FLOOR, STOCK.name, OURS.name, OURS.name, STOCK.name, FLOOR), CONNECTIONS
        )
        await measure(light, (FLOOR, OURS.name, OURS.name, FLOOR), LIGHT_CONNECTIONS)
        # The floor's own gain from a second worker: what this machine allows a lean app,
        # its two cores also running wrk and PostgreSQL.
        scaling = (OURS.name, TWO, FLOOR, FLOOR_TWO, FLOOR_TWO, FLOOR, TWO, OURS.name)
        await measure(scaled, scaling, CONNECTIONS)
        for app in (STOCK, OURS):
            url = servers[app.name][1]
            in_process = (
                our_app(url) if app is OURS else import_stock_app(url, bcrypt_rounds=BCRYPT_ROUNDS)
            )
            work[app.name] = await count_database_work(in_process, app)
        cpu = await cpu_per_request(servers[OURS.name][1])

    def combined(phases: dict[str, list[Load]]) -> dict[str, Load]:
        return {name: combine(runs) for name, runs in phases.items()}

    return summarise(combined(loads), combined(light), combined(scaled), work, cpu)


async def same_answer(ours: Request, floor: Request) -> None:
    """The floor must do the same work: the same JSON for the same token."""
    async with httpx.AsyncClient() as client:
        answers = [await client.get(r.url, headers=r.headers) for r in (ours, floor)]
    for answer in answers:
        answer.raise_for_status()
    if answers[0].json() != answers[1].json():
        raise RuntimeError(f"the floor answers differently: {answers[1].text} vs {answers[0].text}")


def our_app(database_url: str, *, secret_key: str = "", log_level: str = "ERROR") -> FastAPI:
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=secret_key or secrets.token_hex(32),
        bcrypt_rounds=BCRYPT_ROUNDS,
        rate_limits_enabled=False,
        plugins=[],
        cors_origins=[],
        log_level=log_level,
        log_format="json",
        secret_key_file=Path("/nonexistent/never-used"),
        jwt_algorithm="HS256",  # as the servers run (bench/apps.py): the floor reads our tokens
    )
    return create_app(settings)


async def cpu_per_request(database_url: str) -> dict[str, float]:
    """CPU milliseconds per authenticated GET /me, in this process, by app: ours as served
    (a JSON request log line, metrics) and the floor, on the same database and token."""
    secret_key = secrets.token_hex(32)
    os.environ.update(floor_env(database_url, secret_key))
    module = importlib.import_module(FLOOR_MODULE.partition(":")[0])
    if module.SECRET_KEY != secret_key:
        raise RuntimeError("bench.floor_app was already imported with other settings")
    floor: FastAPI = module.app
    ours = our_app(database_url, secret_key=secret_key, log_level="INFO")
    # Ours writes its JSON request lines to stdout, which is this table's: into a buffer.
    with contextlib.redirect_stdout(io.StringIO()):
        async with LifespanManager(ours) as our_side, LifespanManager(floor) as floor_side:
            transport = httpx.ASGITransport(app=our_side.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                headers = {"Authorization": f"Bearer {await log_in(client, OURS)}"}
            cpu: dict[str, list[float]] = {}
            for name, app in ((FLOOR, floor_side.app), (OURS.name, our_side.app)) * 2:
                cost = await cpu_ms_per_request(
                    app, OURS.me_path, headers, requests=CPU_REQUESTS, rounds=2
                )
                cpu.setdefault(name, []).append(cost)
    return {name: min(costs) for name, costs in cpu.items()}


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
    listeners: list[tuple[type, str, Callable[..., None]]] = []
    for name in ("before_cursor_execute", "checkout"):

        def listener(*_args: object, _name: str = name) -> None:
            counts[_name] += 1

        listeners.append((Pool if name == "checkout" else Engine, name, listener))
    for name in ("begin", "commit", "rollback"):

        def transaction_listener(connection: Connection, *_args: object, _name: str = name) -> None:
            # asyncpg sends nothing for these on a connection in autocommit mode
            autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            counts["autocommit" if autocommit else _name] += 1

        listeners.append((Engine, name, transaction_listener))
    for owner, name, listener in listeners:
        event.listen(owner, name, listener)
    do_ping: Callable[[PGDialect_asyncpg, Any], bool] = PGDialect_asyncpg.do_ping

    def counted_ping(dialect: PGDialect_asyncpg, dbapi_connection: Any) -> bool:
        counts["ping"] += 1
        return do_ping(dialect, dbapi_connection)

    # Statements run on the pooled asyncpg connection itself, past SQLAlchemy's events (the
    # token check's, app/db/session.py EntityRead), count as statements all the same.
    execute: Callable[..., Any] = asyncpg.Connection._execute

    async def counted_execute(connection: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        counts["before_cursor_execute"] += 1
        return await execute(connection, *args, **kwargs)

    try:
        with (
            patch.object(PGDialect_asyncpg, "do_ping", counted_ping),
            patch.object(asyncpg.Connection, "_execute", counted_execute),
        ):
            yield counts
    finally:
        for owner, name, listener in listeners:
            event.remove(owner, name, listener)


def summarise(
    loads: dict[str, Load],
    light: dict[str, Load],
    scaled: dict[str, Load],
    work: dict[str, dict[str, float]],
    cpu: dict[str, float],
) -> Result:
    ours, stock, floor = loads[OURS.name], loads[STOCK.name], loads[FLOOR]
    share = ratio(ours.per_second, floor.per_second)
    light_p99 = ratio(light[OURS.name].p99_ms, light[FLOOR].p99_ms)
    gain = ratio(scaled[TWO].per_second, scaled[OURS.name].per_second)
    floor_gain = ratio(scaled[FLOOR_TWO].per_second, scaled[FLOOR].per_second)
    trips = work[OURS.name]["round_trips"]
    rows = [
        Row(
            "/me requests/s, 1 worker",
            ours.per_second,
            stock.per_second,
            share,
            "ours/floor",
            floor=floor.per_second,
            target=target("≥ 0.5× floor (goal 0.8×)", share >= 0.5),
        ),
        Row(
            "/me requests/s vs stock",
            ours.per_second,
            stock.per_second,
            ratio(ours.per_second, stock.per_second),
            "ours/stock",
        ),
        Row(
            f"/me p50 (ms), {CONNECTIONS} connections",
            ours.p50_ms,
            stock.p50_ms,
            floor=floor.p50_ms,
        ),
        Row(
            f"/me p99 (ms), {CONNECTIONS} connections",
            ours.p99_ms,
            stock.p99_ms,
            floor=floor.p99_ms,
        ),
        Row(
            f"/me p99 (ms), {LIGHT_CONNECTIONS} connections",
            light[OURS.name].p99_ms,
            floor=light[FLOOR].p99_ms,
            ratio=light_p99,
            ratio_label="ours/floor",
            target=target("≤ 2× floor", light_p99 <= 2),
        ),
        Row(
            f"/me requests/s, {WORKERS} workers",
            scaled[TWO].per_second,
            ratio=gain,
            ratio_label=f"{WORKERS} workers / 1",
            target=target("≥ 1.6× one worker", gain >= 1.6),
        ),
        Row(
            f"floor /me requests/s, {WORKERS} workers",
            scaled[FLOOR_TWO].per_second,
            ratio=floor_gain,
            ratio_label=f"floor: {WORKERS} workers / 1",
        ),
        Row(
            "/me CPU per request in-process (ms)",
            cpu[OURS.name],
            floor=cpu[FLOOR],
            ratio=ratio(cpu[OURS.name], cpu[FLOOR]),
            ratio_label="ours/floor",
        ),
        Row(
            "SQL statements per /me",
            work[OURS.name]["before_cursor_execute"],
            work[STOCK.name]["before_cursor_execute"],
            floor=1,
        ),
        Row(
            "database round trips per /me",
            trips,
            work[STOCK.name]["round_trips"],
            ratio(work[STOCK.name]["round_trips"], trips),
            "stock/ours",
            floor=1,
            target=target("the minimum, 1", trips <= 1),
        ),
    ]
    notes = [
        f"{ours.tool}, {THREADS} threads, {CONNECTIONS} connections, {ours.seconds / 2:.0f} s per "
        f"phase in phases floor, stock, ours, ours, stock, floor (latencies: mean of an app's "
        f"phases), one uvicorn worker each, each server warmed up first with "
        f"{WARM_UP_SECONDS:g} s of the same load, not recorded; "
        + ", ".join(
            f"{load.requests:,} requests {name} ({load.failures} failed)"
            for name, load in loads.items()
        )
        + ".",
        f"{LIGHT_CONNECTIONS} connections: floor, ours, ours, floor; p50 ours "
        f"{light[OURS.name].p50_ms:.2g} ms, floor {light[FLOOR].p50_ms:.2g} ms; requests/s ours "
        f"{light[OURS.name].per_second:,.0f}, floor {light[FLOOR].per_second:,.0f}.",
        f"workers: ours and the floor with 1 and with {WORKERS} (same options, same database), "
        f"{CONNECTIONS} connections, phases ours, ours×{WORKERS}, floor, floor×{WORKERS}, then "
        f"back: ours {scaled[OURS.name].per_second:,.0f} vs {scaled[TWO].per_second:,.0f} "
        f"requests/s, the floor {scaled[FLOOR].per_second:,.0f} vs "
        f"{scaled[FLOOR_TWO].per_second:,.0f}; wrk and PostgreSQL run on the same two cores, "
        f"and the floor's gain shows what a second worker can add on them.",
        f"CPU per /me in-process: each app called directly (bench/asgi_cpu.py), in turns "
        f"floor, ours, floor, ours, {CPU_REQUESTS:,} requests a round, 2 rounds a turn, "
        f"process time; the least round per app.",
        "the floor (bench/floor_app.py) answered with the same JSON as ours for the same token; "
        "its one round trip per /me is by construction (one fetchrow, no pool reset query).",
        *(
            f"per /me in-process ({COUNTED_REQUESTS} requests), {name}: "
            + ", ".join(f"{counts[event_name]:g} {label}" for event_name, label in EVENTS.items())
            for name, counts in work.items()
        ),
    ]
    return Result("me_throughput", rows, notes)
