"""When the database is unreachable, clients get a retryable 503, never a 500."""

import time
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
