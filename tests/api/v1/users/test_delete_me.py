"""DELETE /v1/users/me: closing your own account needs the current password."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, login, register

ME = "/v1/users/me"


@pytest.fixture
async def ann(client: AsyncClient) -> dict[str, Any]:
    user = await register(client, "ann@example.com")
    return {**user, "token": await login(client, "ann@example.com")}


async def _user_count(db_engine: AsyncEngine) -> int:
    async with db_engine.connect() as connection:
        count: int = await connection.scalar(text("SELECT count(*) FROM users"))
    return count


async def test_delete_me_with_current_password_removes_the_account(
    client: AsyncClient, ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    response = await client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=bearer(ann["token"])
    )

    assert response.status_code == 204
    assert response.content == b""
    assert await _user_count(db_engine) == 0
    relogin = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert relogin.status_code == 400
    assert relogin.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    old_token = await client.get(ME, headers=bearer(ann["token"]))
    assert old_token.status_code == 401


async def test_delete_me_frees_the_email_for_a_new_account(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    await client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=bearer(ann["token"])
    )

    again = await register(client, "ANN@example.com")

    assert again["id"] != ann["id"]


async def test_delete_me_leaves_other_accounts_alone(
    client: AsyncClient, ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    await register(client, "bob@example.com")

    await client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=bearer(ann["token"])
    )

    assert await _user_count(db_engine) == 1
    await login(client, "bob@example.com")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "CURRENT_PASSWORD_REQUIRED"),
        ({"current_password": None}, "CURRENT_PASSWORD_REQUIRED"),
        ({"current_password": "not the password"}, "CURRENT_PASSWORD_INVALID"),
        ({"current_password": PASSWORD + "é" * 40}, "CURRENT_PASSWORD_INVALID"),
    ],
    ids=["absent", "null", "wrong", "over-72-bytes"],
)
async def test_delete_me_without_the_right_current_password_keeps_the_account(
    client: AsyncClient,
    ann: dict[str, Any],
    db_engine: AsyncEngine,
    body: dict[str, Any],
    code: str,
) -> None:
    response = await client.request("DELETE", ME, json=body, headers=bearer(ann["token"]))

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert await _user_count(db_engine) == 1
    assert (await client.get(ME, headers=bearer(ann["token"]))).status_code == 200
    await login(client, "ann@example.com")


async def test_delete_me_with_empty_current_password_is_422_and_keeps_the_account(
    client: AsyncClient, ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    response = await client.request(
        "DELETE", ME, json={"current_password": ""}, headers=bearer(ann["token"])
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["current_password"]
    assert await _user_count(db_engine) == 1


async def test_delete_me_without_a_body_is_422_and_keeps_the_account(
    client: AsyncClient, ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    response = await client.delete(ME, headers=bearer(ann["token"]))

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert await _user_count(db_engine) == 1


async def test_delete_me_without_token_is_401_and_deletes_nothing(
    client: AsyncClient, ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    response = await client.request("DELETE", ME, json={"current_password": PASSWORD})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert await _user_count(db_engine) == 1
