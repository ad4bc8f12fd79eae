"""A database that hangs, refuses, drops or slows down costs clients a quick 503 with
Retry-After, never a 500 or a hung request, and service comes back without a restart.

The server's timeouts are 1 s each (tests/faults/conftest.py FAULT_SETTINGS) and its
pool holds 2 connections.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer
from tests.faults.conftest import MARGIN, WebProcess, timed
from tests.faults.proxy import Mode, TcpProxy

TIMEOUT = 1.0  # every DATABASE_*_TIMEOUT the server runs with
# What an unprotected server does is hang: the client gives up well after the bound.
CLIENT_TIMEOUT = 20.0


@dataclass
class Account:
    email: str
    headers: dict[str, str]


@pytest.fixture
async def client(web: WebProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=web.url, timeout=CLIENT_TIMEOUT) as client:
        yield client


@pytest.fixture
async def account(client: httpx.AsyncClient, db_engine: AsyncEngine) -> Account:
    """A user registered and signed in before the fault (db_engine: tables emptied after)."""
    email = "ann@example.com"
    created = await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
    assert created.status_code == 201, created.text
    signed_in = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    return Account(email, bearer(signed_in.json()["access_token"]))


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0


async def assert_recovered(
    client: httpx.AsyncClient, account: Account, db_engine: AsyncEngine
) -> None:
    """Served again without a restart, and nothing written before the fault is lost."""
    statuses = [
        (await client.get("/v1/users/me", headers=account.headers)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    again = await client.post(
        "/v1/users/login", json={"email": account.email, "password": PASSWORD}
    )
    assert again.status_code == 200
    async with db_engine.connect() as connection:
        stored = await connection.scalar(
            text("SELECT count(*) FROM users WHERE email = :email"), {"email": account.email}
        )
    assert stored == 1


async def test_pooled_connection_that_stops_answering_gets_503_within_the_command_timeout(
    client: httpx.AsyncClient, account: Account, proxy: TcpProxy, db_engine: AsyncEngine
) -> None:
    assert (await client.get("/v1/users/me", headers=account.headers)).status_code == 200
    await proxy.set_mode(Mode.BLACKHOLE)  # the pooled connections stay open, mute

    for _ in range(3):  # the pool's connections, then new ones
        response, elapsed = await timed(client.get("/v1/users/me", headers=account.headers))
        assert_unavailable(response)
        assert elapsed < TIMEOUT + MARGIN, elapsed

    await proxy.set_mode(Mode.PASS)
    await assert_recovered(client, account, db_engine)


async def test_new_connection_that_gets_no_answer_is_503_within_the_connect_timeout(
    client: httpx.AsyncClient, account: Account, proxy: TcpProxy, db_engine: AsyncEngine
) -> None:
    await proxy.set_mode(Mode.DROP)  # the pool's connections die...
    await proxy.set_mode(Mode.BLACKHOLE)  # ...and new ones are accepted, then never answered
    credentials = {"email": account.email, "password": PASSWORD}
    for method, path, body in (
        ("GET", "/v1/users/me", None),
        ("GET", "/v1/users/me", None),
        ("POST", "/v1/users/login", credentials),
    ):
        response, elapsed = await timed(
            client.request(method, path, headers=account.headers, json=body)
        )
        assert_unavailable(response)
        assert elapsed < TIMEOUT + MARGIN, elapsed  # asyncpg's own default: 500 after 60 s

    await proxy.set_mode(Mode.PASS)
    await assert_recovered(client, account, db_engine)


async def test_refused_connections_get_a_quick_503_then_service_recovers(
    client: httpx.AsyncClient, account: Account, proxy: TcpProxy, db_engine: AsyncEngine
) -> None:
    await proxy.set_mode(Mode.DROP)
    await proxy.set_mode(Mode.REFUSE)

    for _ in range(2):
        response, elapsed = await timed(client.get("/v1/users/me", headers=account.headers))
        assert_unavailable(response)
        assert elapsed < TIMEOUT + MARGIN, elapsed

    await proxy.set_mode(Mode.PASS)
    await assert_recovered(client, account, db_engine)


async def test_exhausted_pool_with_a_slow_database_sheds_load_with_quick_503s(
    client: httpx.AsyncClient, account: Account, proxy: TcpProxy, db_engine: AsyncEngine
) -> None:
    # Slow but within the command timeout: each request holds a connection for about a
    # second, so 12 at once need six times the 2-connection pool.
    await proxy.set_mode(Mode.LATENCY, latency=0.15)
    results = await asyncio.gather(
        *(timed(client.get("/v1/users/me", headers=account.headers)) for _ in range(12))
    )

    served = [elapsed for response, elapsed in results if response.status_code == 200]
    shed = [(response, elapsed) for response, elapsed in results if response.status_code != 200]
    assert served, "the pool's own connections still serve"
    assert shed, "the requests the pool can't take in time are refused"
    for response, elapsed in shed:
        assert_unavailable(response)
        assert elapsed < TIMEOUT + MARGIN, elapsed  # the pool timeout, not a queue

    await proxy.set_mode(Mode.PASS)
    await assert_recovered(client, account, db_engine)


async def test_readyz_names_the_database_and_answers_within_two_seconds_when_it_hangs(
    client: httpx.AsyncClient, proxy: TcpProxy
) -> None:
    await proxy.set_mode(Mode.BLACKHOLE)

    response, elapsed = await timed(client.get("/readyz"))

    assert_unavailable(response)
    assert response.json()["checks"] == {"database": "timeout"}
    assert elapsed < 2.0 + 0.5, elapsed  # the README's promise, plus a little for the client

    await proxy.set_mode(Mode.PASS)
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}
