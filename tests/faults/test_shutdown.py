"""SIGTERM (a deploy, a scale-down): requests in flight get to finish within the drain
timeout, a request stuck on the database doesn't hold the exit past it, and the process
exits with status 0 either way. Each test stops a server of its own."""

import asyncio

import httpx

from tests.conftest import PASSWORD
from tests.faults.conftest import MARGIN, start_web
from tests.faults.proxy import Mode, TcpProxy

DRAIN = 2.0  # SHUTDOWN_TIMEOUT_SECONDS in tests/faults/conftest.py


async def test_sigterm_with_a_request_stuck_on_the_database_exits_0_within_the_drain_timeout(
    proxy: TcpProxy, proxied_database_url: str
) -> None:
    # Long database timeouts: only the drain deadline can end the stuck request.
    web = await start_web(
        proxied_database_url,
        "stuck",
        DATABASE_COMMAND_TIMEOUT_SECONDS="60",
        DATABASE_CONNECT_TIMEOUT_SECONDS="60",
    )
    await proxy.set_mode(Mode.BLACKHOLE)
    async with httpx.AsyncClient(base_url=web.url, timeout=60) as client:
        stuck = asyncio.create_task(
            client.post("/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD})
        )
        await asyncio.sleep(0.5)  # the login is waiting on the database now

        status, elapsed = await web.stop()
        response = await stuck

    assert status == 0, web.log()
    assert elapsed < DRAIN + MARGIN, elapsed
    assert "timeout graceful shutdown exceeded" in web.log()
    # Cut off at the deadline with an answer the client can act on: retry elsewhere.
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"]
    assert "Exception in ASGI application" not in web.log()


async def test_sigterm_lets_a_request_in_flight_finish_and_exits_0(
    proxy: TcpProxy, proxied_database_url: str
) -> None:
    web = await start_web(proxied_database_url, "drain")
    credentials = {"email": "bob@example.com", "password": PASSWORD}
    async with httpx.AsyncClient(base_url=web.url, timeout=30) as client:
        assert (await client.post("/v1/users/login", json=credentials)).status_code == 400
        # A pooled connection, slowed: the login takes a moment, well within the drain.
        await proxy.set_mode(Mode.LATENCY, latency=0.1)
        in_flight = asyncio.create_task(client.post("/v1/users/login", json=credentials))
        await asyncio.sleep(0.2)

        status, elapsed = await web.stop()
        response = await in_flight

    assert response.status_code == 400  # answered in full: no such account
    assert response.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert status == 0, web.log()
    assert elapsed < DRAIN + MARGIN, elapsed
