"""login_hashing: does the event loop keep serving while logins hash passwords?

Ours hashes in worker threads; stock fastapi-users hashes on the event loop. Both apps
are up (one uvicorn worker each, their own scratch databases); in turn (ABBA) each gets
`LOGIN_CLIENTS` clients logging in as fast as they can. Meanwhile a separate client asks
that app for the signed-in user's profile, which needs no hashing, on a fixed schedule
(open loop: a slow answer doesn't delay the next question, so stalls are not
under-sampled) and records how late each answer is. The idle figures come from the same
probes on the same schedule with no logins: only the storm differs between the two.
(Probes one after another answer faster than probes 100 ms apart, whose every request
wakes the server, the database and the client from idle: a baseline of back-to-back
probes made the storm look twice as costly as it is.)
"""

import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from urllib.parse import urlencode

import anyio
import bcrypt
import httpx

from bench.apps import (
    ABBA,
    EMAIL,
    OURS,
    PASSWORD,
    STOCK,
    App,
    hash_concurrency,
    serving_both,
    sign_up,
)
from bench.load import Load, Request, generate_load
from bench.report import Result, Row, target
from bench.stats import percentile, ratio

BCRYPT_ROUNDS = 12
LOGIN_CLIENTS = 8
PROBE_INTERVAL_SECONDS = 0.1
WARM_UP_SECONDS = 0.5  # let the login clients get going before probing


@dataclass
class Side:
    """One app under test: its client and what was measured on it, phase after phase."""

    app: App
    client: httpx.AsyncClient
    headers: dict[str, str]
    idle_ms: list[float] = field(default_factory=list)
    busy_ms: list[float] = field(default_factory=list)
    logins: list[Load] = field(default_factory=list)

    @property
    def logins_per_second(self) -> float:
        succeeded = sum(load.requests - load.failures for load in self.logins)
        return succeeded / sum(load.seconds for load in self.logins)

    async def get_me(self) -> float:
        """Milliseconds for one GET /me; a non-2xx answer is an error, not a fast sample."""
        started = time.perf_counter()
        response = await self.client.get(self.app.me_path, headers=self.headers)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed


async def run(*, seconds: float) -> Result:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with serving_both(bcrypt_rounds=BCRYPT_ROUNDS) as servers, AsyncExitStack() as stack:
        sides: dict[str, Side] = {}
        for app in (STOCK, OURS):
            base_url = servers[app.name][0].base_url
            client = httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits)
            await stack.enter_async_context(client)
            token = await sign_up(client, app)
            sides[app.name] = Side(app, client, {"Authorization": f"Bearer {token}"})
        for logins in (False, True):
            for app in ABBA:
                await probe_phase(sides[app.name], seconds=seconds / 2, logins=logins)
        # The ceiling for logins: bcrypt alone on as many threads as ours hashes on.
        raw = await anyio.to_thread.run_sync(raw_bcrypt_rate, hash_concurrency(), seconds / 2)
    return summarise(sides["ours"], sides["stock"], seconds=seconds, raw_bcrypt=raw)


def raw_bcrypt_rate(threads: int, seconds: float) -> float:
    """Checks per second of one password at BCRYPT_ROUNDS by `threads` threads in this
    process, nothing else (bcrypt releases the GIL, as it does in the app)."""
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(BCRYPT_ROUNDS))
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def work(n: int) -> None:
        while time.perf_counter() < deadline:
            bcrypt.checkpw(PASSWORD.encode(), hashed)
            counts[n] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


async def probe_phase(side: Side, *, seconds: float, logins: bool) -> None:
    """Probe /me on schedule for `seconds`; with `logins`, while clients hammer log-in."""
    login = Request(
        url=str(side.client.base_url.join(side.app.login_path)),
        method="POST",
        body=urlencode({"username": EMAIL, "password": PASSWORD}),
        content_type="application/x-www-form-urlencoded",
    )

    async def hammer() -> None:
        load = await generate_load(
            login, connections=LOGIN_CLIENTS, seconds=seconds, tools=("hey",)
        )
        side.logins.append(load.checked(f"{side.app.name} logins"))

    async def probe(scheduled: float) -> None:
        await side.get_me()
        samples = side.busy_ms if logins else side.idle_ms
        samples.append((time.perf_counter() - scheduled) * 1000)

    async with anyio.create_task_group() as group:
        if logins:
            group.start_soon(hammer)
        await anyio.sleep(WARM_UP_SECONDS)
        start = time.perf_counter()
        probes = int((seconds - 2 * WARM_UP_SECONDS) / PROBE_INTERVAL_SECONDS)
        for n in range(probes):
            scheduled = start + n * PROBE_INTERVAL_SECONDS
            await anyio.sleep(max(0.0, scheduled - time.perf_counter()))
            group.start_soon(probe, scheduled)
    await side.get_me()  # returns once the app has worked off any backlog


def summarise(ours: Side, stock: Side, *, seconds: float, raw_bcrypt: float) -> Result:
    idle_p99 = percentile(ours.idle_ms, 99)
    storm_p99 = percentile(ours.busy_ms, 99)
    storm = ratio(storm_p99, idle_p99)
    share = ratio(ours.logins_per_second, raw_bcrypt)
    rows = [
        Row("/me p50, idle (ms)", percentile(ours.idle_ms, 50), percentile(stock.idle_ms, 50)),
        Row("/me p99, idle (ms)", idle_p99, percentile(stock.idle_ms, 99)),
        Row(
            "/me p99 during logins / idle p99",
            storm,
            ratio(percentile(stock.busy_ms, 99), percentile(stock.idle_ms, 99)),
            target=target("≤ 2× idle p99", storm <= 2),
        ),
    ]
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
    rows.append(
        Row(
            "logins/s vs raw bcrypt",
            ours.logins_per_second,
            ratio=share,
            ratio_label="ours/raw bcrypt",
            floor=raw_bcrypt,
            target=target("≥ 0.9× raw bcrypt", share >= 0.9),
        )
    )
    count = {side.app.name: sum(load.requests for load in side.logins) for side in (ours, stock)}
    failed = {side.app.name: sum(load.failures for load in side.logins) for side in (ours, stock)}
    notes = [
        f"bcrypt cost {BCRYPT_ROUNDS}; {LOGIN_CLIENTS} login clients ({ours.logins[0].tool}) "
        f"for {seconds:g} s per app, in phases stock, ours, ours, stock; a /me probe every "
        f"{PROBE_INTERVAL_SECONDS * 1000:.0f} ms from a separate client, open loop "
        f"({len(ours.busy_ms)} samples ours, {len(stock.busy_ms)} stock).",
        f"idle: the same probes on the same schedule, in phases of {seconds / 2:g} s in the "
        f"same order before any login ({len(ours.idle_ms)} samples ours, "
        f"{len(stock.idle_ms)} stock).",
        f"logins: {count['ours']} ours, {count['stock']} stock; "
        f"failed: {failed['ours']} ours, {failed['stock']} stock.",
        f"raw bcrypt (the floor column of that row): checkpw at cost {BCRYPT_ROUNDS} on "
        f"{hash_concurrency()} threads (our HASH_CONCURRENCY) in the bench process for "
        f"{seconds / 2:g} s, after the login phases: {raw_bcrypt:.1f} checks/s.",
    ]
    return Result("login_hashing", rows, notes)
