"""A refresh token presented twice inside the reuse grace window can't fork its session.

Both presentations get the same successor, so whoever holds a copy can only continue the
one chain, and the next reuse outside the window is detected as before.
"""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, register

LOGIN = "/v1/users/login"
REFRESH = "/v1/users/refresh"
COOKIE_MODE = {"X-Refresh-Token-Delivery": "cookie"}


async def sign_in(client: AsyncClient, headers: dict[str, str] | None = None) -> dict[str, str]:
    response = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def refresh(client: AsyncClient, token: str) -> dict[str, str]:
    response = await client.post(REFRESH, json={"refresh_token": token})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def stored_tokens(db_engine: AsyncEngine) -> int:
    async with db_engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM refresh_tokens"))
    return int(count or 0)


@pytest.fixture
async def ann(client: AsyncClient) -> None:
    await register(client, "ann@example.com")


@pytest.mark.usefixtures("ann")
async def test_refreshing_twice_inside_the_grace_window_returns_the_same_refresh_token(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    first = await sign_in(client)

    owner = await refresh(client, first["refresh_token"])
    thief = await refresh(client, first["refresh_token"])
    third = await refresh(client, first["refresh_token"])

    assert owner["refresh_token"] != first["refresh_token"]
    assert thief["refresh_token"] == owner["refresh_token"] == third["refresh_token"]
    # One successor stored, not one per presentation: there is no second chain to hold.
    assert await stored_tokens(db_engine) == 2
    for answer in (owner, thief, third):
        me = await client.get("/v1/users/me", headers=bearer(answer["access_token"]))
        assert me.status_code == 200


@pytest.mark.usefixtures("ann")
async def test_concurrent_refreshes_with_one_token_get_one_successor(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    first = await sign_in(client)

    answers = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": first["refresh_token"]}) for _ in range(5))
    )

    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.json()["refresh_token"] for answer in answers}) == 1
    assert await stored_tokens(db_engine) == 2


@pytest.mark.usefixtures("ann")
async def test_the_chain_continues_with_either_copy_of_the_successor(client: AsyncClient) -> None:
    first = await sign_in(client)
    owner = await refresh(client, first["refresh_token"])
    thief = await refresh(client, first["refresh_token"])

    from_owner = await refresh(client, owner["refresh_token"])
    from_thief = await refresh(client, thief["refresh_token"])

    assert from_owner["refresh_token"] == from_thief["refresh_token"]
    assert from_owner["refresh_token"] not in (first["refresh_token"], owner["refresh_token"])
    assert (await client.post(REFRESH, json=from_owner)).status_code == 200


async def test_a_copied_token_used_after_the_window_still_ends_the_session(
    client_for: Any,
) -> None:
    async with client_for(refresh_reuse_grace_seconds=1) as client:
        await register(client, "ann@example.com")
        first = await sign_in(client)
        owner = await refresh(client, first["refresh_token"])
        thief = await refresh(client, first["refresh_token"])  # inside the window: same token
        continued = await refresh(client, owner["refresh_token"])
        await asyncio.sleep(1.5)

        # The thief's copy is the owner's rotated token: presenting it now is reuse.
        reuse = await client.post(REFRESH, json={"refresh_token": thief["refresh_token"]})
        after = await client.post(REFRESH, json={"refresh_token": continued["refresh_token"]})

    assert thief["refresh_token"] == owner["refresh_token"]
    assert reuse.status_code == 401
    assert after.status_code == 401


async def test_cookie_refreshes_inside_the_grace_window_set_the_same_cookie(
    client_for: Any,
) -> None:
    async with client_for() as browser:
        await register(browser, "ann@example.com")
        await sign_in(browser, COOKIE_MODE)
        [original] = [cookie for cookie in browser.cookies.jar if cookie.name == "refresh_token"]

        first = await browser.post(REFRESH, headers=COOKIE_MODE)
        browser.cookies.jar.set_cookie(original)  # a second tab still sends the old cookie
        second = await browser.post(REFRESH, headers=COOKIE_MODE)

        assert (first.status_code, second.status_code) == (200, 200)
        assert first.cookies["refresh_token"] != original.value
        assert second.cookies["refresh_token"] == first.cookies["refresh_token"]
        assert (await browser.post(REFRESH, headers=COOKIE_MODE)).status_code == 200
