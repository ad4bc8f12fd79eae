"""me_throughput: how many GET /v1/users/me a single worker serves, and what each costs.

wrk (or hey) keeps 16 connections busy for a while against our app in a subprocess.
Separately, the same app runs in-process with SQLAlchemy's engine events counted, to
show how many SQL statements and transactions one /me costs.
"""

import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import event

from app.core.config import Settings
from app.main import create_app
from bench.apps import OURS, log_in, sign_up
from bench.database import scratch_database
from bench.load import Request, generate_load
from bench.report import Result, Row
from bench.servers import our_app_env, uvicorn

BCRYPT_ROUNDS = 4  # only sign-up hashes here; keep it cheap
CONNECTIONS = 16
THREADS = 2
COUNTED_REQUESTS = 20


async def run(*, seconds: float) -> Result:
    async with scratch_database("bench_me") as url:
        with uvicorn(OURS.module, our_app_env(url, bcrypt_rounds=BCRYPT_ROUNDS)) as server:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                token = await sign_up(client, OURS)
            me = Request(
                url=server.base_url + OURS.me_path, headers={"Authorization": f"Bearer {token}"}
            )
            load = await generate_load(
                me, connections=CONNECTIONS, seconds=seconds, threads=THREADS
            )
        per_request = await count_database_work(url)
    rows = [
        Row("/me requests/s", load.per_second),
        Row("/me p50 (ms)", load.p50_ms),
        Row("/me p99 (ms)", load.p99_ms),
        Row("SQL statements per /me", per_request["statements"]),
    ]
    notes = [
        f"{load.tool}, {THREADS} threads, {CONNECTIONS} connections, {load.seconds:.0f} s, "
        f"one uvicorn worker; {load.requests:,} requests, {load.failures} failed.",
        "per /me, counted in-process over {n} requests: {statements:g} SQL statement(s), "
        "{begins:g} transaction(s) begun, {commits:g} commit(s), {rollbacks:g} rollback(s), "
        "{checkouts:g} pool checkout(s) (each with a pre-ping)".format(
            n=COUNTED_REQUESTS, **per_request
        ),
    ]
    return Result("me_throughput", rows, notes)


async def count_database_work(database_url: str) -> dict[str, float]:
    """Average engine events per authenticated GET /v1/users/me."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        bcrypt_rounds=BCRYPT_ROUNDS,
        rate_limits_enabled=False,
        plugins=[],
        cors_origins=[],
        log_level="WARNING",
        secret_key_file=Path("/nonexistent/never-used"),
    )
    app = create_app(settings)
    counts: Counter[str] = Counter()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {await log_in(client, OURS)}"}
            engine = app.state.context.engine.sync_engine
            listeners = _counting_listeners(counts)
            for name, listener in listeners.items():
                event.listen(engine if name != "checkout" else engine.pool, name, listener)
            try:
                for _ in range(COUNTED_REQUESTS):
                    (await client.get(OURS.me_path, headers=headers)).raise_for_status()
            finally:
                for name, listener in listeners.items():
                    event.remove(engine if name != "checkout" else engine.pool, name, listener)
    names = {
        "before_cursor_execute": "statements",
        "begin": "begins",
        "commit": "commits",
        "rollback": "rollbacks",
        "checkout": "checkouts",
    }
    return {label: counts[name] / COUNTED_REQUESTS for name, label in names.items()}


def _counting_listeners(counts: Counter[str]) -> dict[str, Any]:
    def make(name: str) -> Any:
        def listener(*_args: object) -> None:
            counts[name] += 1

        return listener

    names = ("before_cursor_execute", "begin", "commit", "rollback", "checkout")
    return {name: make(name) for name in names}
