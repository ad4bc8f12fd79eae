"""token_algorithms: GET /me with EdDSA, ES256 and HS256 access tokens, side by side.

Three servers of ours, one per JWT_ALGORITHM, each on its own scratch database (keys of
one algorithm per database), one uvicorn worker each with the Procfile's web options.
wrk keeps 16 connections busy against each in phases EdDSA, ES256, HS256, HS256, ES256,
EdDSA, so a change in the machine's load weighs on all three alike. Issue 14's target:
asymmetric tokens within 10 % of HS256 requests/s.

Each load sends one token over and over, as a client does for its token's 15 minutes:
after the first request the verified-token cache answers. What a cache miss costs (one
PyJWT verification, no cache) is measured in-process as well, and so is the CPU time of
a whole GET /me per algorithm (the figure a loaded machine disturbs least).
"""

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from asgi_lifespan import LifespanManager

from app.core.config import Settings
from app.core.keys import Algorithm, generate_private_key
from app.main import create_app
from bench.apps import OURS, log_in, sign_up
from bench.database import scratch_database
from bench.load import Load, Request, combine, generate_load
from bench.report import Result, Row, target
from bench.servers import uvicorn
from bench.stats import ratio

BCRYPT_ROUNDS = 4  # only sign-up and log-in hash here
CONNECTIONS = 16
THREADS = 2
ALGORITHMS: tuple[Algorithm, ...] = ("EdDSA", "ES256", "HS256")
ORDER = ("EdDSA", "ES256", "HS256", "HS256", "ES256", "EdDSA")
VERIFICATIONS = 2_000
CPU_ROUNDS = 20
CPU_BATCH = 50  # requests per app per round
WARM_UP = 200  # requests per server before the first phase
GOAL = 0.9  # within 10 % of HS256


@asynccontextmanager
async def serving_each_algorithm() -> AsyncIterator[dict[str, tuple[str, str]]]:
    """One of ours per algorithm: (base URL, database URL) by algorithm."""
    async with AsyncExitStack() as stack:
        servers: dict[str, tuple[str, str]] = {}
        for algorithm in ALGORITHMS:
            database = await stack.enter_async_context(scratch_database(f"bench_{algorithm}"))
            env = {**OURS.env(database, BCRYPT_ROUNDS), "JWT_ALGORITHM": algorithm}
            server = stack.enter_context(uvicorn(OURS.module, env, extra_args=OURS.extra_args))
            servers[algorithm] = (server.base_url, database)
        yield servers


async def run(*, seconds: float) -> Result:
    phase = seconds / 2
    loads: dict[str, list[Load]] = {}
    async with serving_each_algorithm() as servers:
        requests: dict[str, Request] = {}
        for algorithm, (base_url, _) in servers.items():
            async with httpx.AsyncClient(base_url=base_url) as client:
                token = await sign_up(client, OURS)
            if jwt.get_unverified_header(token)["alg"] != algorithm:
                raise RuntimeError(f"the {algorithm} server signed {token[:40]}...")
            headers = {"Authorization": f"Bearer {token}"}
            requests[algorithm] = Request(url=base_url + OURS.me_path, headers=headers)
            async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:
                for _ in range(WARM_UP):  # pool connections open, code paths warm
                    (await client.get(OURS.me_path)).raise_for_status()
        for algorithm in ORDER:
            load = await generate_load(
                requests[algorithm], connections=CONNECTIONS, seconds=phase, threads=THREADS
            )
            loads.setdefault(algorithm, []).append(load.checked(f"{algorithm} GET /me"))
        cpu = await cpu_ms_per_me({name: database for name, (_, database) in servers.items()})
    combined = {name: combine(runs) for name, runs in loads.items()}
    return summarise(combined, cpu, verification_ms())


async def cpu_ms_per_me(databases: dict[str, str]) -> dict[str, float]:
    """CPU time of one GET /me per algorithm, app and client in this process (ASGI, no
    sockets): the three apps take turns in small batches, so a change in the machine's
    load weighs on all of them alike."""
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for algorithm in ALGORITHMS:
            app = create_app(in_process_settings(algorithm, databases[algorithm]))
            manager = await stack.enter_async_context(LifespanManager(app))
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=manager.app), base_url="http://bench"
                )
            )
            client.headers["Authorization"] = f"Bearer {await log_in(client, OURS)}"
            for _ in range(WARM_UP):
                (await client.get(OURS.me_path)).raise_for_status()
            clients[algorithm] = client
        spent = dict.fromkeys(clients, 0.0)
        for round in range(CPU_ROUNDS):
            for algorithm in ALGORITHMS if round % 2 else ALGORITHMS[::-1]:
                started = time.process_time()
                for _ in range(CPU_BATCH):
                    (await clients[algorithm].get(OURS.me_path)).raise_for_status()
                spent[algorithm] += time.process_time() - started
    return {name: seconds * 1000 / (CPU_ROUNDS * CPU_BATCH) for name, seconds in spent.items()}


def in_process_settings(algorithm: Algorithm, database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        jwt_algorithm=algorithm,
        bcrypt_rounds=BCRYPT_ROUNDS,
        rate_limits_enabled=False,
        plugins=[],
        cors_origins=[],
        log_level="ERROR",
        secret_key_file=Path("/nonexistent/never-used"),
    )


def verification_ms() -> dict[str, float]:
    """One PyJWT verification per algorithm, in ms (the best of three rounds): what a
    token costs the first time this process sees it."""
    now = int(time.time())
    claims = {"iss": "i", "aud": "a", "sub": "s", "iat": now, "exp": now + 900}
    costs: dict[str, float] = {}
    for algorithm in ALGORITHMS:
        private: Any
        public: Any
        if algorithm == "HS256":
            private = public = b"k" * 32
        else:
            private = generate_private_key(algorithm)
            public = private.public_key()
        token = jwt.encode(claims, private, algorithm=algorithm)
        rounds = []
        for _ in range(3):
            started = time.perf_counter()
            for _ in range(VERIFICATIONS):
                jwt.decode(token, public, algorithms=[algorithm], audience="a", issuer="i")
            rounds.append((time.perf_counter() - started) * 1000 / VERIFICATIONS)
        costs[algorithm] = min(rounds)
    return costs


def summarise(loads: dict[str, Load], cpu: dict[str, float], costs: dict[str, float]) -> Result:
    hs256 = loads["HS256"]
    rows = [Row("/me CPU ms in-process, HS256", cpu["HS256"])]
    for algorithm in ("EdDSA", "ES256"):
        share = ratio(cpu["HS256"], cpu[algorithm])
        rows.append(
            Row(
                f"/me CPU ms in-process, {algorithm}",
                cpu[algorithm],
                ratio=share,
                ratio_label=f"HS256/{algorithm}",
                target=target("≥ 0.9× HS256 (as requests/s)", share >= GOAL),
            )
        )
    rows.append(Row("/me requests/s, HS256", hs256.per_second))
    for algorithm in ("EdDSA", "ES256"):
        share = ratio(loads[algorithm].per_second, hs256.per_second)
        rows.append(
            Row(
                f"/me requests/s, {algorithm}",
                loads[algorithm].per_second,
                ratio=share,
                ratio_label=f"{algorithm}/HS256",
                target=target("≥ 0.9× HS256", share >= GOAL),
            )
        )
    rows += [Row(f"/me p50 (ms), {name}", loads[name].p50_ms) for name in ALGORITHMS]
    rows += [
        Row(
            f"one verification without the cache (ms), {name}",
            costs[name],
            ratio=ratio(costs[name], costs["HS256"]),
            ratio_label=f"{name}/HS256",
        )
        for name in ALGORITHMS
    ]
    notes = [
        f"{hs256.tool}, {THREADS} threads, {CONNECTIONS} connections, {hs256.seconds / 2:.1f} s "
        f"per phase in phases {', '.join(ORDER)}, one uvicorn worker each, one token per "
        "server (the verified-token cache answers after the first request); "
        + ", ".join(f"{load.requests:,} requests {name}" for name, load in loads.items())
        + ".",
        f"verification without the cache: PyJWT alone, best of 3 rounds of {VERIFICATIONS:,}.",
        f"CPU ms in-process: {CPU_ROUNDS * CPU_BATCH:,} GET /me per algorithm through httpx's "
        f"ASGI transport after {WARM_UP} warm-up requests, app and client on one event loop, "
        f"the apps taking turns in batches of {CPU_BATCH} (process time, so other processes' "
        "load counts little). "
        "Requests/s go through wrk and are at the machine's mercy: on a loaded machine "
        "they swing far more than the algorithms differ.",
    ]
    return Result("token_algorithms", rows, notes)
