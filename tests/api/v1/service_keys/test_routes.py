"""/v1/service-keys: superusers make keys (shown once, stored hashed), list and revoke them."""

import hashlib
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import bearer

URL = "/v1/service-keys"


async def create(client: AsyncClient, token: str, name: str) -> dict[str, Any]:
    response = await client.post(URL, json={"name": name}, headers=bearer(token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def stored(db_engine: AsyncEngine) -> list[dict[str, Any]]:
    async with db_engine.connect() as connection:
        rows = await connection.execute(text("SELECT * FROM service_keys ORDER BY created_at"))
        return [dict(row._mapping) for row in rows]


async def test_a_key_is_shown_once_and_stored_only_as_its_digest(
    client: AsyncClient, superuser_token: str, db_engine: AsyncEngine
) -> None:
    response = await client.post(URL, json={"name": "billing-api"}, headers=bearer(superuser_token))

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"id", "name", "key", "created_at"}
    assert body["key"].startswith("sk_") and len(body["key"]) >= 46
    [row] = await stored(db_engine)
    assert row["digest"] == hashlib.sha256(body["key"].encode()).hexdigest()
    assert body["key"] not in repr(row)
    me = (await client.get("/v1/users/me", headers=bearer(superuser_token))).json()
    assert str(row["created_by"]) == me["id"]

    listed = await client.get(URL, headers=bearer(superuser_token))

    assert listed.status_code == 200
    [item] = listed.json()
    assert item == {
        "id": body["id"],
        "name": "billing-api",
        "created_at": body["created_at"],
        "created_by": me["id"],
        "last_used_at": None,
    }
    assert body["key"] not in listed.text and row["digest"] not in listed.text


async def test_two_keys_never_share_a_value(client: AsyncClient, superuser_token: str) -> None:
    first = await create(client, superuser_token, "one")
    second = await create(client, superuser_token, "two")

    assert first["key"] != second["key"]


async def test_using_a_key_records_when(
    client: AsyncClient, superuser_token: str, db_engine: AsyncEngine
) -> None:
    key = (await create(client, superuser_token, "reports"))["key"]

    used = await client.post("/v1/tokens/introspect", data={"token": "x"}, headers=bearer(key))

    assert used.status_code == 200
    [item] = (await client.get(URL, headers=bearer(superuser_token))).json()
    assert item["last_used_at"] is not None


async def test_a_revoked_key_leaves_the_list_and_its_name_is_free_again(
    client: AsyncClient, superuser_token: str, db_engine: AsyncEngine
) -> None:
    old = await create(client, superuser_token, "billing-api")

    revoked = await client.delete(f"{URL}/{old['id']}", headers=bearer(superuser_token))

    assert revoked.status_code == 204
    assert (await client.get(URL, headers=bearer(superuser_token))).json() == []
    again = await create(client, superuser_token, "Billing-API")
    assert again["id"] != old["id"]
    rows = await stored(db_engine)
    assert [row["revoked_at"] is not None for row in rows] == [True, False]


async def test_revoking_an_unknown_or_revoked_key_is_404(
    client: AsyncClient, superuser_token: str
) -> None:
    key = await create(client, superuser_token, "billing-api")
    assert (await client.delete(f"{URL}/{key['id']}", headers=bearer(superuser_token))).is_success

    for key_id in (key["id"], str(uuid.uuid4())):
        response = await client.delete(f"{URL}/{key_id}", headers=bearer(superuser_token))
        assert response.status_code == 404
        assert response.json()["code"] == "SERVICE_KEY_NOT_FOUND"


async def test_a_live_keys_name_is_taken_whatever_its_case(
    client: AsyncClient, superuser_token: str
) -> None:
    await create(client, superuser_token, "billing-api")

    response = await client.post(URL, json={"name": "BILLING-api"}, headers=bearer(superuser_token))

    assert response.status_code == 400
    assert response.json()["code"] == "SERVICE_KEY_NAME_TAKEN"
    assert len((await client.get(URL, headers=bearer(superuser_token))).json()) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": " padded"},
        {"name": "padded "},
        {"name": "x" * 65},
        {"name": "tab\there"},
        {"name": "nul\x00"},
        {"name": "émoji🙂"},
        {"name": 12},
        {"name": None},
    ],
)
async def test_a_bad_name_is_a_422(
    client: AsyncClient, superuser_token: str, body: dict[str, Any], db_engine: AsyncEngine
) -> None:
    response = await client.post(URL, json=body, headers=bearer(superuser_token))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"name", "body"}
    assert await stored(db_engine) == []


async def test_names_may_hold_spaces_and_punctuation_inside(
    client: AsyncClient, superuser_token: str
) -> None:
    assert (await create(client, superuser_token, "Billing API v2.1:prod_eu"))["name"] == (
        "Billing API v2.1:prod_eu"
    )


async def test_normal_users_get_403_and_anonymous_callers_401(
    client: AsyncClient, user_token: str, superuser_token: str, db_engine: AsyncEngine
) -> None:
    key = await create(client, superuser_token, "billing-api")
    calls = [
        ("POST", URL, {"name": "mine"}),
        ("GET", URL, None),
        ("DELETE", f"{URL}/{key['id']}", None),
    ]

    for method, url, body in calls:
        as_user = await client.request(method, url, json=body, headers=bearer(user_token))
        anonymous = await client.request(method, url, json=body)
        assert (as_user.status_code, anonymous.status_code) == (403, 401), (method, url)

    assert [row["name"] for row in await stored(db_engine)] == ["billing-api"]
    assert all(row["revoked_at"] is None for row in await stored(db_engine))
