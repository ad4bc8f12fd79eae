"""When the database is unreachable, clients get a retryable 503, never a 500."""

import asyncio
import struct
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from app.core.config import Settings
from tests.conftest import bearer

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/users/", {"email": "ann@example.com", "password": "correct horse"}),
        ("POST", "/v1/users/login", {"email": "ann@example.com", "password": "correct horse"}),
        ("POST", "/v1/users/refresh", {"refresh_token": "x" * 43}),
    ],
)
async def test_requests_during_a_database_outage_get_503(
    client_for: Any, method: str, path: str, body: dict[str, str]
) -> None:
    async with client_for(database_url=UNREACHABLE) as client:
        response = await client.request(method, path, json=body)

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"]
    assert "asyncpg" not in response.text and "127.0.0.1" not in response.text


async def test_authenticated_requests_during_an_outage_get_503_not_401(
    client_for: Any, settings: Settings, user_token: str
) -> None:
    # Same signing key, so the token is valid and only the session check needs the database.
    async with client_for(database_url=UNREACHABLE, secret_key=settings.secret_key) as down:
        response = await down.get("/v1/users/me", headers=bearer(user_token))

    assert response.status_code == 503


async def test_a_database_that_accepts_but_never_answers_gets_503_within_the_connect_timeout(
    client_for: Any, silent_server: int
) -> None:
    silent = f"postgresql+asyncpg://postgres@127.0.0.1:{silent_server}/x"
    async with client_for(database_url=silent, database_connect_timeout_seconds=1) as client:
        started = time.perf_counter()
        response = await client.post(
            "/v1/users/login", json={"email": "ann@example.com", "password": "correct horse"}
        )
        elapsed = time.perf_counter() - started

    # asyncpg's own default would be a 500 (an unmapped TimeoutError) after 60 s.
    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"]
    assert elapsed < 5, elapsed


@asynccontextmanager
async def refusing_database(sqlstate: str, message: str) -> AsyncIterator[str]:
    """A PostgreSQL that answers every connection with one FATAL error, as a real one does
    while it starts, shuts down or has no connection slot left."""
    fields = [b"SFATAL", b"VFATAL", b"C" + sqlstate.encode(), b"M" + message.encode()]
    error = b"".join(field + b"\0" for field in fields) + b"\0"

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (length,) = struct.unpack("!i", await reader.readexactly(4))
                body = await reader.readexactly(length - 4)
                if body[:4] not in (b"\x04\xd2\x16\x2f", b"\x04\xd2\x16\x30"):  # SSL, GSS
                    break
                writer.write(b"N")  # no encryption; the startup message comes next
            writer.write(b"E" + struct.pack("!i", len(error) + 4) + error)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/app"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        ("57P03", "the database system is starting up"),
        ("57P03", "the database system is shutting down"),
        ("53300", "sorry, too many clients already"),
    ],
)
async def test_a_database_refusing_connections_for_now_gets_503_like_readyz_says(
    client_for: Callable[..., AbstractAsyncContextManager[Any]], sqlstate: str, message: str
) -> None:
    async with refusing_database(sqlstate, message) as url, client_for(database_url=url) as client:
        login = await client.post(
            "/v1/users/login", json={"email": "ann@example.com", "password": "correct horse"}
        )
        ready = await client.get("/readyz")

    assert ready.status_code == 503
    assert login.status_code == 503, login.text
    assert login.json()["code"] == "SERVICE_UNAVAILABLE"
    assert login.headers["retry-after"]
