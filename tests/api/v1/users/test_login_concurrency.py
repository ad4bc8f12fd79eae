"""Password hashing must not block the event loop: other requests keep being served.

Timing here only catches a blocked loop (a probe stuck behind a whole hash); the bounds
are relative to hash times measured on this machine, in the same window, so a slow or
busy machine stretches both sides alike.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import bcrypt

from tests.conftest import PASSWORD, bearer, login, register

ROUNDS = 12
CONCURRENT_LOGINS = 6
PROBES = 10


def _one_hash_seconds() -> float:
    """How long one bcrypt check at ROUNDS takes on this machine (best of three)."""
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(ROUNDS))
    durations = []
    for _ in range(3):
        started = time.perf_counter()
        bcrypt.checkpw(b"y", hashed)
        durations.append(time.perf_counter() - started)
    return min(durations)


async def test_me_is_served_while_concurrent_logins_hash(client_for: Callable[..., Any]) -> None:
    one_hash = _one_hash_seconds()

    # One hashing thread: the logins queue one after another, which makes the hashing
    # window long and predictable, and leaves the loop a core of its own.
    async with client_for(bcrypt_rounds=ROUNDS, hash_concurrency=1) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        # Open enough pooled connections up front, so no probe pays for connecting.
        warm = await asyncio.gather(
            *(
                client.get("/v1/users/me", headers=bearer(token))
                for _ in range(CONCURRENT_LOGINS + 1)
            )
        )
        assert {response.status_code for response in warm} == {200}

        async def timed_login() -> int:
            response = await client.post(
                "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
            )
            status: int = response.status_code
            return status

        started = time.perf_counter()
        logins = [asyncio.create_task(timed_login()) for _ in range(CONCURRENT_LOGINS)]
        await asyncio.sleep(0)  # let the logins start before the first probe
        probe_seconds = []
        probes_during_hashing = 0
        for _ in range(PROBES):
            probe_started = time.perf_counter()
            response = await client.get("/v1/users/me", headers=bearer(token))
            probe_seconds.append(time.perf_counter() - probe_started)
            assert response.status_code == 200
            probes_during_hashing += not all(task.done() for task in logins)
        statuses = await asyncio.gather(*logins)
        hashing_wall_time = time.perf_counter() - started

    assert statuses == [200] * CONCURRENT_LOGINS
    # The logins really did keep the hashing thread busy for a while ...
    assert hashing_wall_time > 0.5, (hashing_wall_time, one_hash)
    # ... the probes ran alongside them, not after them ...
    assert probes_during_hashing == PROBES, probe_seconds
    # ... and none waited for a whole hash, as it would behind a loop-blocking hash.
    per_hash = max(one_hash, hashing_wall_time / CONCURRENT_LOGINS)
    assert max(probe_seconds) < 0.75 * per_hash, (probe_seconds, one_hash, hashing_wall_time)


async def test_logins_waiting_for_the_hasher_do_not_hold_database_connections(
    client_for: Callable[..., Any],
) -> None:
    one_hash = _one_hash_seconds()
    # One connection and one hashing thread: if a queued login kept its connection while
    # waiting for the hasher, /me would wait behind every hash in the queue.
    settings = {
        "bcrypt_rounds": ROUNDS,
        "database_pool_size": 1,
        "database_max_overflow": 0,
        "hash_concurrency": 1,
    }
    async with client_for(**settings) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")

        logins = [
            asyncio.create_task(
                client.post(
                    "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
                )
            )
            for _ in range(4)
        ]
        await asyncio.sleep(0.2 * one_hash)  # the logins are now queued for the hasher
        probe_started = time.perf_counter()
        me = await client.get("/v1/users/me", headers=bearer(token))
        probe_seconds = time.perf_counter() - probe_started
        queue_still_busy = not all(task.done() for task in logins)
        statuses = [response.status_code for response in await asyncio.gather(*logins)]

    assert me.status_code == 200
    assert statuses == [200] * 4
    assert queue_still_busy
    # Four serialised hashes take 4 x one_hash; /me must not wait for them.
    assert probe_seconds < 1.5 * one_hash, (probe_seconds, one_hash)


async def test_unknown_email_logins_waiting_for_the_hasher_do_not_hold_database_connections(
    client_for: Callable[..., Any],
) -> None:
    one_hash = _one_hash_seconds()
    settings = {
        "bcrypt_rounds": ROUNDS,
        "database_pool_size": 1,
        "database_max_overflow": 0,
        "hash_concurrency": 1,
    }
    async with client_for(**settings) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        unknown = {"email": "nobody@example.com", "password": PASSWORD}
        warm_up = await client.post("/v1/users/login", json=unknown)  # makes the dummy hash
        assert warm_up.status_code == 400

        logins = [
            asyncio.create_task(client.post("/v1/users/login", json=unknown)) for _ in range(4)
        ]
        await asyncio.sleep(0.2 * one_hash)  # the logins are now queued for the hasher
        probe_started = time.perf_counter()
        me = await client.get("/v1/users/me", headers=bearer(token))
        probe_seconds = time.perf_counter() - probe_started
        queue_still_busy = not all(task.done() for task in logins)
        statuses = [response.status_code for response in await asyncio.gather(*logins)]

    assert me.status_code == 200
    assert statuses == [400] * 4
    # Four serialised hashes take 4 x one_hash; /me must not wait for them.
    assert probe_seconds < 1.5 * one_hash, (probe_seconds, one_hash)
    assert queue_still_busy


async def test_a_burst_of_logins_past_the_hash_queue_limit_is_refused_at_once(
    client_for: Callable[..., Any],
) -> None:
    # One hashing thread and room for two hashes: a burst of eight can't all be taken on.
    async with client_for(bcrypt_rounds=ROUNDS, hash_concurrency=1, hash_queue_limit=2) as client:
        await register(client, "ann@example.com")

        async def attempt() -> tuple[int, str | None, float]:
            started = time.perf_counter()
            response = await client.post(
                "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
            )
            return (
                response.status_code,
                response.headers.get("retry-after"),
                (time.perf_counter() - started),
            )

        results = await asyncio.gather(*(attempt() for _ in range(8)))

    served = [elapsed for status, _, elapsed in results if status == 200]
    refused = [(retry, elapsed) for status, retry, elapsed in results if status == 503]
    assert len(served) + len(refused) == len(results), results
    assert 1 <= len(served) and len(refused) >= 4, results
    assert all(retry is not None and int(retry) > 0 for retry, _ in refused)
    # Refused without waiting for a turn: sooner than the queue's last login was served.
    assert max(elapsed for _, elapsed in refused) < max(served), results
