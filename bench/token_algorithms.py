"""token_algorithms: GET /me with EdDSA, ES256 and HS256 access tokens, side by side.

Three servers of ours, one per JWT_ALGORITHM, each on its own scratch database (keys of
one algorithm per database), one uvicorn worker each with the Procfile's web options.
wrk keeps 16 connections busy against each in phases EdDSA, ES256, HS256, HS256, ES256,
EdDSA, so a change in the machine's load weighs on all three alike. Issue 14's target:
asymmetric tokens within 10 % of HS256 requests/s.

Each load sends one token over and over, as a client does for its token's 15 minutes:
after the first request the verified-token cache answers. What a cache miss costs (one
PyJWT verification, no cache) is measured in-process as well.
"""

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import jwt

from app.core.keys import Algorithm, generate_private_key
from bench.apps import OURS, sign_up
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
GOAL = 0.9  # within 10 % of HS256


@asynccontextmanager
async def serving_each_algorithm() -> AsyncIterator[dict[str, str]]:
    """One of ours per algorithm: base URLs by algorithm."""
    async with AsyncExitStack() as stack:
        urls: dict[str, str] = {}
        for algorithm in ALGORITHMS:
            database = await stack.enter_async_context(scratch_database(f"bench_{algorithm}"))
            env = {**OURS.env(database, BCRYPT_ROUNDS), "JWT_ALGORITHM": algorithm}
            server = stack.enter_context(uvicorn(OURS.module, env, extra_args=OURS.extra_args))
            urls[algorithm] = server.base_url
        yield urls


async def run(*, seconds: float) -> Result:
    phase = seconds / 2
    loads: dict[str, list[Load]] = {}
    async with serving_each_algorithm() as urls:
        requests: dict[str, Request] = {}
        for algorithm, base_url in urls.items():
            async with httpx.AsyncClient(base_url=base_url) as client:
                token = await sign_up(client, OURS)
            if jwt.get_unverified_header(token)["alg"] != algorithm:
                raise RuntimeError(f"the {algorithm} server signed {token[:40]}...")
            headers = {"Authorization": f"Bearer {token}"}
            requests[algorithm] = Request(url=base_url + OURS.me_path, headers=headers)
        for algorithm in ORDER:
            load = await generate_load(
                requests[algorithm], connections=CONNECTIONS, seconds=phase, threads=THREADS
            )
            loads.setdefault(algorithm, []).append(load.checked(f"{algorithm} GET /me"))
    return summarise({name: combine(runs) for name, runs in loads.items()}, verification_ms())


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


def summarise(loads: dict[str, Load], costs: dict[str, float]) -> Result:
    hs256 = loads["HS256"]
    rows = [Row("/me requests/s, HS256", hs256.per_second)]
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
    ]
    return Result("token_algorithms", rows, notes)
