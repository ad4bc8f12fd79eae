"""/healthz (the process is up) and /readyz (the database answers in time)."""

import time
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text

from app.main import create_app
from tests.conftest import make_settings, running

UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/x"


def client_with_database(url: str) -> Any:
    # client_for() can't take database_url: it passes its own as make_settings' first argument.
    return running(create_app(make_settings(url)))


async def test_healthz_is_ok(client: AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_healthz_does_not_touch_the_database() -> None:
    async with client_with_database(UNREACHABLE_DATABASE) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ok_when_the_database_answers(client: AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_readyz_is_ok_while_every_pooled_connection_is_busy(
    migrated_database_url: str,
) -> None:
    app = create_app(
        make_settings(
            migrated_database_url,
            database_pool_size=1,
            database_max_overflow=0,
            database_pool_timeout=10,
        )
    )
    async with running(app) as client, app.state.context.engine.connect() as held:
        await held.execute(text("SELECT 1"))  # the pool's only connection, checked out
        started = time.perf_counter()
        response = await client.get("/readyz")
        elapsed = time.perf_counter() - started

    # Its own connection: neither "not ready" nor a wait for the pool.
    assert response.status_code == 200
    assert elapsed < 2, elapsed


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    async with client_with_database(UNREACHABLE_DATABASE) as client:
        started = time.perf_counter()
        response = await client.get("/readyz")
        elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.json()["message"]
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"] == {"database": "unreachable"}
    assert response.headers["retry-after"]
    assert elapsed < 2, elapsed


async def test_readyz_gives_up_on_a_hung_database_within_the_timeout(silent_server: int) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_server}/x"
    async with client_with_database(url) as client:
        started = time.perf_counter()
        response = await client.get("/readyz")
        elapsed = time.perf_counter() - started

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.json()["checks"] == {"database": "timeout"}
    # The README promises an answer within 2 s, whatever hangs.
    assert 1 < elapsed < 2, elapsed


async def test_readyz_error_does_not_leak_connection_details() -> None:
    async with client_with_database(UNREACHABLE_DATABASE) as client:
        response = await client.get("/readyz")

    text = response.text.lower()
    for leak in ("127.0.0.1", "asyncpg", "sqlalchemy", "connect call failed", "errno", "postgres"):
        assert leak not in text, leak


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_answer_head_like_get(client: AsyncClient, path: str) -> None:
    response = await client.head(path)

    assert response.status_code == 200
    assert response.content == b""
