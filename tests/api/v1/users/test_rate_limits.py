"""Brute-force brakes, counted in real Redis where the deployment shares them."""

import secrets
from typing import Any

import pytest

from tests.conftest import PASSWORD, register

LOGIN = "/v1/users/login"
REDIS_URL = "redis://127.0.0.1:6379/15"


def limited(client_for: Any, **limits: object) -> Any:
    # Counts live in a Redis database of their own, emptied before each test.
    return client_for(rate_limits_enabled=True, rate_limit_storage_url=REDIS_URL, **limits)


def unique_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.com"


async def test_repeated_wrong_passwords_get_429_with_retry_after(client_for: object) -> None:
    email = unique_email()
    async with limited(
        client_for, rate_limit_login_failures="3/minute", rate_limit_per_address="1000/minute"
    ) as client:
        await register(client, email)
        wrong = [
            await client.post(LOGIN, json={"email": email, "password": "wrong password"})
            for _ in range(3)
        ]
        blocked = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    assert [r.status_code for r in wrong] == [400, 400, 400]
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60


async def test_successful_logins_do_not_use_up_the_failure_allowance(client_for: object) -> None:
    email = unique_email()
    async with limited(
        client_for, rate_limit_login_failures="2/minute", rate_limit_per_address="1000/minute"
    ) as client:
        await register(client, email)
        statuses = [
            (await client.post(LOGIN, json={"email": email, "password": PASSWORD})).status_code
            for _ in range(5)
        ]

    assert statuses == [200] * 5


async def test_one_address_cannot_hash_passwords_without_limit(client_for: object) -> None:
    async with limited(
        client_for, rate_limit_per_address="4/minute", rate_limit_login_failures="1000/minute"
    ) as client:
        statuses = [
            (
                await client.post(LOGIN, json={"email": unique_email(), "password": "whatever1"})
            ).status_code
            for _ in range(5)
        ]
    await _clear_redis()

    assert statuses == [400, 400, 400, 400, 429]


async def test_an_unreachable_limit_store_lets_requests_through(client_for: object) -> None:
    email = unique_email()
    async with client_for(
        rate_limits_enabled=True,  # type: ignore[operator]
        rate_limit_storage_url="redis://127.0.0.1:1",
    ) as client:
        await register(client, email)
        response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    assert response.status_code == 200


async def _clear_redis() -> None:
    import redis.asyncio as redis

    connection = redis.Redis.from_url(REDIS_URL)
    await connection.flushdb()
    await connection.aclose()


@pytest.fixture(autouse=True)
async def _fresh_counts() -> None:
    await _clear_redis()
