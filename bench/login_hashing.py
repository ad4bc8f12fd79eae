"""login_hashing: does the event loop keep serving while logins hash passwords?

Ours hashes in worker threads; stock fastapi-users hashes on the event loop. Each app
runs alone (one uvicorn worker, its own scratch database) while `LOGIN_CLIENTS`
clients log in as fast as they can. Meanwhile a separate client asks for the signed-in
user's profile, which needs no hashing, on a fixed schedule (open loop: a slow answer
doesn't delay the next question, so stalls are not under-sampled) and records how late
each answer is.
"""

import time
from dataclasses import dataclass
from urllib.parse import urlencode

import anyio
import httpx

from bench.apps import EMAIL, OURS, PASSWORD, STOCK, App, serving, sign_up
from bench.load import Load, Request, generate_load
from bench.report import Result, Row
from bench.stats import percentile, ratio

BCRYPT_ROUNDS = 12
LOGIN_CLIENTS = 8
PROBE_INTERVAL_SECONDS = 0.1
IDLE_PROBES = 20
WARM_UP_SECONDS = 0.5  # let the login clients get going before probing


@dataclass(frozen=True)
class Measurement:
    idle_ms: list[float]
    busy_ms: list[float]
    logins: Load

    @property
    def logins_per_second(self) -> float:
        return (self.logins.requests - self.logins.failures) / self.logins.seconds


async def run(*, seconds: float) -> Result:
    """Stock first, then ours, each alone on the machine."""
    measured: dict[str, Measurement] = {}
    for app in (STOCK, OURS):
        async with serving(app, bcrypt_rounds=BCRYPT_ROUNDS) as (server, _):
            measured[app.name] = await measure(app, server.base_url, seconds=seconds)
    return summarise(measured["ours"], measured["stock"], seconds=seconds)


async def measure(app: App, base_url: str, *, seconds: float) -> Measurement:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:
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
            load = await generate_load(
                login, connections=LOGIN_CLIENTS, seconds=seconds, tools=("hey",)
            )
            logins.append(load.checked(f"{app.name} logins"))

        async def probe(scheduled: float) -> None:
            await timed_get(client, app.me_path, headers)
            busy.append((time.perf_counter() - scheduled) * 1000)

        async with anyio.create_task_group() as group:
            group.start_soon(hammer)
            await anyio.sleep(WARM_UP_SECONDS)
            start = time.perf_counter()
            probes = int((seconds - 2 * WARM_UP_SECONDS) / PROBE_INTERVAL_SECONDS)
            for n in range(probes):
                scheduled = start + n * PROBE_INTERVAL_SECONDS
                await anyio.sleep(max(0.0, scheduled - time.perf_counter()))
                group.start_soon(probe, scheduled)
    return Measurement(idle_ms=idle, busy_ms=busy, logins=logins[0])


async def timed_get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> float:
    """Milliseconds for one GET; a non-2xx answer is an error, not a fast sample."""
    started = time.perf_counter()
    response = await client.get(path, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def summarise(ours: Measurement, stock: Measurement, *, seconds: float) -> Result:
    rows = [Row("/me p50, idle (ms)", percentile(ours.idle_ms, 50), percentile(stock.idle_ms, 50))]
    for q in (50, 95, 100):
        label = "max" if q == 100 else f"p{q}"
        mine, theirs = percentile(ours.busy_ms, q), percentile(stock.busy_ms, q)
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
        f"for {seconds:g} s per app, stock first, then ours; a /me probe every "
        f"{PROBE_INTERVAL_SECONDS * 1000:.0f} ms from a separate client, open loop "
        f"({len(ours.busy_ms)} samples ours, {len(stock.busy_ms)} stock).",
        f"logins: {ours.logins.requests} ours, {stock.logins.requests} stock "
        f"(p50 {ours.logins.p50_ms:,.0f} ms vs {stock.logins.p50_ms:,.0f} ms); "
        f"failed: {ours.logins.failures} ours, {stock.logins.failures} stock.",
    ]
    return Result("login_hashing", rows, notes)
