"""Brute-force brakes on password guessing, in memory and in a real Redis of our own."""

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register, running
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]  # the fixture, imported for this module's tests

LOGIN = "/v1/users/login"
ME = "/v1/users/me"
WRONG = "wrong password"


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Each limit holds in the per-process store and in the shared one alike."""
    if request.param == "memory":
        return "memory://"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
def limited(
    migrated_database_url: str, db_engine: AsyncEngine, store_url: str
) -> Callable[..., Any]:
    """`async with limited(**settings) as (client, app):` an app with limits on in that store."""

    @asynccontextmanager
    async def factory(**limits: object) -> AsyncIterator[tuple[AsyncClient, FastAPI]]:
        # These tests are about the limits, not a slow store: a loaded machine must not
        # make Redis miss its production timeout, which opens the brakes by design.
        limits = {"rate_limit_storage_timeout_seconds": 5, **limits}
        settings = make_settings(
            migrated_database_url,
            rate_limits_enabled=True,
            rate_limit_storage_url=store_url,
            **limits,
        )
        app = create_app(settings)
        async with running(app) as client:
            yield client, app

    return factory


def unique_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.com"


@asynccontextmanager
async def hash_counter(app: FastAPI) -> AsyncIterator[list[str]]:
    """Record every password the app's real hasher verifies while the block runs."""
    hasher = app.state.context.hasher
    verified: list[str] = []
    real_verify = hasher.verify

    async def recording_verify(password: str, hashed_password: str) -> tuple[bool, str | None]:
        verified.append(password)
        result: tuple[bool, str | None] = await real_verify(password, hashed_password)
        return result

    hasher.verify = recording_verify
    try:
        yield verified
    finally:
        del hasher.verify  # back to the class's method


async def test_repeated_wrong_passwords_get_429_with_retry_after(
    limited: Callable[..., Any],
) -> None:
    email = unique_email()
    async with limited(
        rate_limit_login_failures="3/minute",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, email)
        wrong = [
            await client.post(LOGIN, json={"email": email, "password": WRONG}) for _ in range(3)
        ]
        blocked = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    assert [r.status_code for r in wrong] == [400, 400, 400]
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60


async def test_parallel_wrong_passwords_hash_at_most_limit_times_and_the_right_one_is_then_refused(
    limited: Callable[..., Any],
) -> None:
    email, limit, attempts = unique_email(), 3, 25
    async with limited(
        rate_limit_login_failures=f"{limit}/minute",
        rate_limit_per_address="1000/minute",
        hash_concurrency=1,  # a queue at the hasher: the window the old check-then-count lost
    ) as (client, app):
        await register(client, email)
        async with hash_counter(app) as verified:
            guesses = await asyncio.gather(
                *(
                    client.post(LOGIN, json={"email": email, "password": f"{WRONG} {n}"})
                    for n in range(attempts)
                )
            )
            right = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    statuses = sorted(response.status_code for response in guesses)
    assert statuses == [400] * limit + [429] * (attempts - limit)
    assert len(verified) == limit
    assert right.status_code == 429


async def test_successful_logins_do_not_use_up_the_failure_allowance(
    limited: Callable[..., Any],
) -> None:
    email = unique_email()
    async with limited(
        rate_limit_login_failures="2/minute",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, email)
        statuses = [
            (await client.post(LOGIN, json={"email": email, "password": PASSWORD})).status_code
            for _ in range(5)
        ]

    assert statuses == [200] * 5


async def test_a_correct_password_clears_earlier_failures_from_that_address(
    limited: Callable[..., Any],
) -> None:
    email = unique_email()
    async with limited(
        rate_limit_login_failures="2/minute",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, email)
        typo = await client.post(LOGIN, json={"email": email, "password": WRONG})
        right = await client.post(LOGIN, json={"email": email, "password": PASSWORD})
        # Two more slips are allowed again, the third one is not.
        later = [
            (await client.post(LOGIN, json={"email": email, "password": WRONG})).status_code
            for _ in range(3)
        ]

    assert (typo.status_code, right.status_code) == (400, 200)
    assert later == [400, 400, 429]


async def test_one_address_cannot_hash_passwords_without_limit(
    limited: Callable[..., Any],
) -> None:
    async with limited(
        rate_limit_per_address="4/minute",
        rate_limit_login_failures="1000/minute",
    ) as (client, app):
        statuses = [
            (
                await client.post(LOGIN, json={"email": unique_email(), "password": "whatever1"})
            ).status_code
            for _ in range(5)
        ]

    assert statuses == [400, 400, 400, 400, 429]


async def _patch_me(client: AsyncClient, token: str, current_password: str) -> Response:
    return await client.patch(
        ME,
        headers=bearer(token),
        json={"password": "a brand new passphrase", "current_password": current_password},
    )


async def _delete_me(client: AsyncClient, token: str, current_password: str) -> Response:
    return await client.request(
        "DELETE", ME, headers=bearer(token), json={"current_password": current_password}
    )


@pytest.mark.parametrize("guess", [_patch_me, _delete_me], ids=["patch", "delete"])
async def test_current_password_guesses_with_a_stolen_token_are_limited_like_logins(
    limited: Callable[..., Any],
    guess: Callable[[AsyncClient, str, str], Any],
) -> None:
    email, limit, attempts = unique_email(), 3, 12
    async with limited(
        rate_limit_login_failures=f"{limit}/minute",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, email)
        token = await login(client, email)
        async with hash_counter(app) as verified:
            guesses = await asyncio.gather(
                *(guess(client, token, f"{WRONG} {n}") for n in range(attempts))
            )
            right = await guess(client, token, PASSWORD)
            login_after = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    statuses = sorted(response.status_code for response in guesses)
    assert statuses == [400] * limit + [429] * (attempts - limit)
    assert len(verified) == limit
    blocked = [r for r in guesses if r.status_code == 429]
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in blocked)
    # The right password is refused too, and logins share the same allowance.
    assert right.status_code == 429
    assert login_after.status_code == 429


async def test_a_correct_current_password_clears_earlier_failures(
    limited: Callable[..., Any],
) -> None:
    email = unique_email()
    async with limited(
        rate_limit_login_failures="2/minute",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, email)
        token = await login(client, email)
        typo = await client.patch(ME, headers=bearer(token), json={"current_password": WRONG})
        right = await client.patch(ME, headers=bearer(token), json={"current_password": PASSWORD})
        again = await client.patch(ME, headers=bearer(token), json={"current_password": WRONG})

    assert [typo.status_code, right.status_code, again.status_code] == [400, 200, 400]


async def test_registration_probes_from_one_address_are_limited_whether_or_not_the_email_is_taken(
    limited: Callable[..., Any],
) -> None:
    taken = unique_email()
    async with limited(
        rate_limit_registrations="4/hour",
        rate_limit_per_address="1000/minute",
    ) as (client, app):
        await register(client, taken)
        probes = [
            await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
            for email in (taken, unique_email(), taken)
        ]
        blocked = [
            await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
            for email in (taken, unique_email())
        ]

    assert [r.status_code for r in probes] == [400, 201, 400]
    # Once used up, a taken and a free email get the same answer: nothing to learn.
    assert [r.status_code for r in blocked] == [429, 429]
    assert blocked[0].json() == blocked[1].json()
    assert 1 <= int(blocked[0].headers["retry-after"]) <= 3600
