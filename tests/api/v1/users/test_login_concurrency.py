"""Password hashing must not block the event loop: other requests keep being served."""

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

    async with client_for(bcrypt_rounds=ROUNDS) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 200

        async def timed_login() -> int:
            response = await client.post(
                "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
            )
            return response.status_code

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
    # The logins really did keep the hashing threads busy for a while ...
    assert hashing_wall_time > max(0.5, 2 * one_hash), (hashing_wall_time, one_hash)
    # ... and the probes ran alongside them, not after them.
    assert probes_during_hashing == PROBES, probe_seconds
    # A blocked loop would make some probe wait for at least one whole hash.
    assert max(probe_seconds) < 0.6 * one_hash, (probe_seconds, one_hash)
