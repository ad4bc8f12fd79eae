"""PATCH /v1/users/me: email and password changes behind the current password."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import PASSWORD, bearer, login, register

ME = "/v1/users/me"
LOGIN = "/v1/users/login"
NEW_PASSWORD = "a brand new passphrase"


async def _login_status(client: AsyncClient, email: str, password: str) -> int:
    response = await client.post(LOGIN, json={"email": email, "password": password})
    return response.status_code


@pytest.fixture
async def ann(client: AsyncClient) -> dict[str, Any]:
    user = await register(client, "ann@example.com")
    return {**user, "token": await login(client, "ann@example.com")}


async def _verify(client: AsyncClient, superuser_token: str, user_id: str) -> None:
    response = await client.patch(
        f"/v1/users/{user_id}", json={"is_verified": True}, headers=bearer(superuser_token)
    )
    assert response.json()["is_verified"] is True


async def test_update_me_changes_email_lowercased_and_resets_verification(
    client: AsyncClient, ann: dict[str, Any], superuser_token: str
) -> None:
    await _verify(client, superuser_token, ann["id"])

    response = await client.patch(
        ME,
        json={"email": " Ann.New@Example.COM ", "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == "ann.new@example.com"
    assert body["is_verified"] is False
    assert body["id"] == ann["id"]
    assert await _login_status(client, "ann.new@example.com", PASSWORD) == 200
    assert await _login_status(client, "ann@example.com", PASSWORD) == 400


async def test_update_me_with_same_email_in_other_case_changes_nothing(
    client: AsyncClient, ann: dict[str, Any], superuser_token: str
) -> None:
    await _verify(client, superuser_token, ann["id"])

    response = await client.patch(
        ME,
        json={"email": "ANN@example.com", "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 200
    assert response.json()["email"] == "ann@example.com"
    assert response.json()["is_verified"] is True


async def test_update_me_changes_password(client: AsyncClient, ann: dict[str, Any]) -> None:
    response = await client.patch(
        ME,
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 200, response.text
    assert "password" not in response.text
    assert await _login_status(client, "ann@example.com", PASSWORD) == 400
    assert await _login_status(client, "ann@example.com", NEW_PASSWORD) == 200


async def test_update_me_keeps_the_current_token_working(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    await client.patch(
        ME,
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert (await client.get(ME, headers=bearer(ann["token"]))).status_code == 200


async def test_update_me_changes_email_and_password_together(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    response = await client.patch(
        ME,
        json={"email": "ann2@example.com", "password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 200
    assert await _login_status(client, "ann2@example.com", NEW_PASSWORD) == 200
    assert await _login_status(client, "ann2@example.com", PASSWORD) == 400


@pytest.mark.parametrize(
    "change", [{"email": "new@example.com"}, {"password": NEW_PASSWORD}], ids=["email", "password"]
)
@pytest.mark.parametrize(
    "confirmation",
    [{}, {"current_password": None}],
    ids=["absent", "null"],
)
async def test_update_me_without_current_password_is_refused(
    client: AsyncClient,
    ann: dict[str, Any],
    change: dict[str, str],
    confirmation: dict[str, Any],
) -> None:
    response = await client.patch(ME, json={**change, **confirmation}, headers=bearer(ann["token"]))

    assert response.status_code == 400
    assert response.json()["code"] == "CURRENT_PASSWORD_REQUIRED"
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200
    assert await _login_status(client, "new@example.com", PASSWORD) == 400


async def test_update_me_with_empty_current_password_is_422_as_the_schema_says(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    response = await client.patch(
        ME,
        json={"email": "new@example.com", "current_password": ""},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["current_password"]
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


@pytest.mark.parametrize(
    "change", [{"email": "new@example.com"}, {"password": NEW_PASSWORD}], ids=["email", "password"]
)
@pytest.mark.parametrize(
    "wrong",
    ["not the password", PASSWORD.upper(), PASSWORD + "x" * 60],
    ids=["other", "case", "over-72-bytes"],
)
async def test_update_me_with_wrong_current_password_is_refused(
    client: AsyncClient, ann: dict[str, Any], change: dict[str, str], wrong: str
) -> None:
    response = await client.patch(
        ME, json={**change, "current_password": wrong}, headers=bearer(ann["token"])
    )

    assert response.status_code == 400
    assert response.json()["code"] == "CURRENT_PASSWORD_INVALID"
    me = await client.get(ME, headers=bearer(ann["token"]))
    assert me.json()["email"] == "ann@example.com"
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


@pytest.mark.parametrize("taken", ["bob@example.com", "BOB@Example.com", " bob@EXAMPLE.com "])
async def test_update_me_to_an_email_already_taken_in_any_case_is_refused(
    client: AsyncClient, ann: dict[str, Any], taken: str
) -> None:
    await register(client, "bob@example.com")

    response = await client.patch(
        ME, json={"email": taken, "current_password": PASSWORD}, headers=bearer(ann["token"])
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_EMAIL_ALREADY_EXISTS"
    me = await client.get(ME, headers=bearer(ann["token"]))
    assert me.json()["email"] == "ann@example.com"
    assert await _login_status(client, "bob@example.com", "correct horse battery") == 200


@pytest.mark.parametrize(
    ("new_password", "reason"),
    [
        ("é" * 36 + "a", "72 bytes"),
        ("        ", "spaces"),
        ("my ann@example.com pass", "email"),
    ],
    ids=["over-72-bytes", "only-spaces", "contains-email"],
)
async def test_update_me_with_bad_new_password_is_refused_with_the_reason(
    client: AsyncClient, ann: dict[str, Any], new_password: str, reason: str
) -> None:
    response = await client.patch(
        ME,
        json={"password": new_password, "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_INVALID_PASSWORD"
    assert reason in response.json()["message"]
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


async def test_update_me_checks_new_password_against_the_new_email(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    response = await client.patch(
        ME,
        json={
            "email": "zed@example.com",
            "password": "Zed@Example.com rocks",
            "current_password": PASSWORD,
        },
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_INVALID_PASSWORD"
    me = await client.get(ME, headers=bearer(ann["token"]))
    assert me.json()["email"] == "ann@example.com"


async def test_update_me_ignores_privilege_fields(client: AsyncClient, ann: dict[str, Any]) -> None:
    response = await client.patch(
        ME,
        json={
            "is_superuser": True,
            "is_verified": True,
            "is_active": False,
            "id": "00000000-0000-0000-0000-000000000000",
            "current_password": PASSWORD,
        },
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["is_superuser"], body["is_verified"], body["is_active"]) == (False, False, True)
    assert body["id"] == ann["id"]
    listing = await client.get("/v1/users/", headers=bearer(ann["token"]))
    assert listing.status_code == 403


async def test_update_me_with_malformed_email_is_422_naming_the_field(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    response = await client.patch(
        ME,
        json={"email": "not-an-email", "current_password": PASSWORD},
        headers=bearer(ann["token"]),
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["email"]
    assert PASSWORD not in response.text


async def test_update_me_without_token_is_401(client: AsyncClient, ann: dict[str, Any]) -> None:
    response = await client.patch(
        ME, json={"email": "new@example.com", "current_password": PASSWORD}
    )

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


async def test_concurrent_changes_to_the_same_email_let_exactly_one_win(
    client: AsyncClient, ann: dict[str, Any]
) -> None:
    await register(client, "bob@example.com")
    tokens = [ann["token"], await login(client, "bob@example.com")]

    responses = await asyncio.gather(
        *(
            client.patch(
                ME,
                json={"email": "Same@Example.com", "current_password": PASSWORD},
                headers=bearer(token),
            )
            for token in tokens
        )
    )

    assert sorted(response.status_code for response in responses) == [200, 400]
    loser = next(response for response in responses if response.status_code == 400)
    assert loser.json()["code"] == "UPDATE_USER_EMAIL_ALREADY_EXISTS"
    assert await _login_status(client, "same@example.com", PASSWORD) == 200
