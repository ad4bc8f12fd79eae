import asyncio

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, register

USER_FIELDS = {"id", "email", "is_active", "is_verified", "is_superuser", "created_at", "roles"}


async def test_register_returns_the_new_user_without_its_hash(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_FIELDS
    assert body["email"] == "ann@example.com"
    assert (body["is_active"], body["is_verified"], body["is_superuser"]) == (True, False, False)
    assert body["roles"] == []


async def test_register_ignores_privilege_fields_from_the_client(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/users/",
        json={
            "email": "eve@example.com",
            "password": PASSWORD,
            "is_superuser": True,
            "is_verified": True,
            "is_active": False,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["is_active"], body["is_verified"], body["is_superuser"]) == (True, False, False)


async def test_register_stores_email_trimmed_and_lowercased(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    body = await register(client, "  Ann.Lee@Example.COM ")

    assert body["email"] == "ann.lee@example.com"
    async with db_engine.connect() as connection:
        stored = await connection.scalar(text("SELECT email FROM users"))
    assert stored == "ann.lee@example.com"


async def test_register_stores_a_bcrypt_hash_not_the_password(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")

    async with db_engine.connect() as connection:
        stored = await connection.scalar(text("SELECT hashed_password FROM users"))
    assert stored.startswith("$2b$")
    assert PASSWORD not in stored


async def test_register_existing_email_in_other_case_is_rejected(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        "/v1/users/", json={"email": "ANN@Example.com", "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "REGISTER_USER_ALREADY_EXISTS"


async def test_concurrent_case_variant_registrations_create_exactly_one_account(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    variants = [
        "race@example.com",
        "RACE@example.com",
        "Race@Example.com",
        "rAcE@example.COM",
        "race@EXAMPLE.com",
        "RACE@EXAMPLE.COM",
        "Race@example.com",
        "race@Example.Com",
        " race@example.com",
        "rACE@eXAMPLE.cOM",
    ]

    responses = await asyncio.gather(
        *(
            client.post("/v1/users/", json={"email": email, "password": PASSWORD})
            for email in variants
        )
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [400] * 9
    assert {r.json()["code"] for r in responses if r.status_code == 400} == {
        "REGISTER_USER_ALREADY_EXISTS"
    }
    async with db_engine.connect() as connection:
        count = await connection.scalar(text("SELECT count(*) FROM users"))
    assert count == 1


async def test_control_characters_in_lookups_are_a_422_not_a_database_error(
    client: AsyncClient, superuser_token: str
) -> None:
    login = await client.post(
        "/v1/users/login", json={"email": "a\u0000b@example.com", "password": PASSWORD}
    )
    forgot = await client.post("/v1/users/forgot-password", json={"email": "a\u0000@x.com"})
    search = await client.get(
        "/v1/users/",
        params={"email": "a\u0000"},
        headers={"Authorization": f"Bearer {superuser_token}"},
    )
    huge_offset = await client.get(
        "/v1/users/",
        params={"offset": str(2**70)},
        headers={"Authorization": f"Bearer {superuser_token}"},
    )

    assert [r.status_code for r in (login, forgot, search, huge_offset)] == [422] * 4
