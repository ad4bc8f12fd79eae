"""login_hashing: does the event loop keep serving while logins hash passwords?

Ours hashes in worker threads; stock fastapi-users hashes on the event loop. Each app
runs alone (one uvicorn worker, its own scratch database) while `LOGIN_CLIENTS`
clients log in as fast as they can; a separate client meanwhile asks for the signed-in
user's profile, which needs no hashing, and records how long each answer takes.
"""

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import anyio
import httpx

from bench.apps import EMAIL, OURS, PASSWORD, STOCK, App, sign_up
from bench.database import scratch_database
from bench.load import Load, Request, generate_load
from bench.report import Result, Row
from bench.servers import our_app_env, uvicorn
from bench.stats import percentile, ratio

BCRYPT_ROUNDS = 12
LOGIN_CLIENTS = 8
PROBE_INTERVAL_SECONDS = 0.05
IDLE_PROBES = 20


@dataclass(frozen=True)
class Measurement:
    idle_ms: list[float]
    busy_ms: list[float]
    logins: Load

    @property
    def logins_per_second(self) -> float:
        return (self.logins.requests - self.logins.failures) / self.logins.seconds


async def run(*, seconds: float) -> Result:
    """Stock first, then ours, each on its own server and database."""
    async with scratch_database("bench_stock", migrate=False) as url:
        env = {
            "STOCK_DATABASE_URL": url,
            "STOCK_SECRET": secrets.token_hex(32),
            "STOCK_BCRYPT_ROUNDS": str(BCRYPT_ROUNDS),
        }
        with uvicorn(STOCK.module, env) as server:
            stock = await measure(STOCK, server.base_url, seconds=seconds)
    async with scratch_database("bench_ours") as url:
        with uvicorn(OURS.module, our_app_env(url, bcrypt_rounds=BCRYPT_ROUNDS)) as server:
            ours = await measure(OURS, server.base_url, seconds=seconds)
    return summarise(ours, stock, seconds=seconds)


async def measure(app: App, base_url: str, *, seconds: float) -> Measurement:
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        token = await sign_up(client, app)
        headers = {"Authorization": f"Bearer {token}"}
        idle = [await timed_get(client, app.me_path, headers) for _ in range(IDLE_PROBES)]
        login = Request(
            url=base_url + app.login_path,
            method="POST",
            body=urlencode({"username": EMAIL, "password": PASSWORD}),
            content_type="application/x-www-form-urlencoded",
        )
        busy: list[float] = []
        logins: list[Load] = []

        async def hammer() -> None:
            logins.append(
                await generate_load(
                    login, connections=LOGIN_CLIENTS, seconds=seconds, tools=("hey",)
                )
            )

        async with anyio.create_task_group() as group:
            group.start_soon(hammer)
            await anyio.sleep(0.5)  # let the login clients get going
            while not logins:
                busy.append(await timed_get(client, app.me_path, headers))
                await anyio.sleep(PROBE_INTERVAL_SECONDS)
    return Measurement(idle_ms=idle, busy_ms=busy, logins=logins[0])


async def timed_get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    """Milliseconds for one GET; a non-2xx answer is an error, not a fast sample."""
    started = time.perf_counter()
    response = await client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def summarise(ours: Measurement, stock: Measurement, *, seconds: float) -> Result:
    rows = [Row("/me p50, idle (ms)", _p(ours.idle_ms, 50), _p(stock.idle_ms, 50))]
    for q in (50, 95, 100):
        label = "max" if q == 100 else f"p{q}"
        mine, theirs = _p(ours.busy_ms, q), _p(stock.busy_ms, q)
        rows.append(
            Row(f"/me {label} during logins (ms)", mine, theirs, ratio(theirs, mine), "stock/ours")
        )
    rows.append(
        Row(
            "logins/s",
            ours.logins_per_second,
            stock.logins_per_second,
            ratio(ours.logins_per_second, stock.logins_per_second),
            "ours/stock",
        )
    )
    notes = [
        f"bcrypt cost {BCRYPT_ROUNDS}; {LOGIN_CLIENTS} login clients ({ours.logins.tool}) "
        f"for {seconds:g} s per app, stock first, then ours; one /me probe every "
        f"{PROBE_INTERVAL_SECONDS * 1000:.0f} ms from a separate client "
        f"({len(ours.busy_ms)} samples ours, {len(stock.busy_ms)} stock).",
        f"login p50 {ours.logins.p50_ms:,.0f} ms ours vs {stock.logins.p50_ms:,.0f} ms stock; "
        f"failed logins: {ours.logins.failures} ours, {stock.logins.failures} stock.",
    ]
    return Result("login_hashing", rows, notes)


def _p(values: list[float], q: float) -> float:
    return percentile(values, q)
