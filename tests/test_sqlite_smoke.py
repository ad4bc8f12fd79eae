"""The zero-setup path: SQLite, migrated by Alembic, serving the same account flows."""

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import anyio
import pytest
from httpx import AsyncClient

from app.cli import create_superuser
from app.main import create_app
from tests.conftest import (
    PASSWORD,
    bearer,
    login,
    make_settings,
    register,
    run_migrations,
    running,
)


@pytest.fixture
async def sqlite_client(tmp_path: Path) -> AsyncIterator[AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    # Alembic's env.py runs its own event loop, so it gets a thread of its own.
    await anyio.to_thread.run_sync(run_migrations, url)
    async with running(create_app(make_settings(url))) as client:
        yield client


async def test_sqlite_register_login_and_me(sqlite_client: AsyncClient) -> None:
    created = await sqlite_client.post(
        "/v1/users/", json={"email": " Ann@Example.com", "password": PASSWORD}
    )
    assert created.status_code == 201, created.text

    login = await sqlite_client.post(
        "/v1/users/login", data={"username": "ANN@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    me = await sqlite_client.get("/v1/users/me", headers=bearer(login.json()["access_token"]))

    assert me.status_code == 200
    assert me.json()["id"] == created.json()["id"]
    assert me.json()["email"] == "ann@example.com"


async def test_sqlite_rejects_an_email_differing_only_in_case(sqlite_client: AsyncClient) -> None:
    first = await sqlite_client.post(
        "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
    )
    again = await sqlite_client.post(
        "/v1/users/", json={"email": "ANN@EXAMPLE.com", "password": PASSWORD}
    )

    assert first.status_code == 201
    assert again.status_code == 400
    assert again.json()["code"] == "REGISTER_USER_ALREADY_EXISTS"


async def test_sqlite_wrong_password_and_readiness(sqlite_client: AsyncClient) -> None:
    await sqlite_client.post("/v1/users/", json={"email": "ann@example.com", "password": PASSWORD})

    wrong = await sqlite_client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": "not it at all"}
    )
    ready = await sqlite_client.get("/readyz")

    assert wrong.status_code == 400
    assert wrong.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert ready.status_code == 200


async def test_sqlite_update_and_delete_me(sqlite_client: AsyncClient) -> None:
    await sqlite_client.post("/v1/users/", json={"email": "ann@example.com", "password": PASSWORD})
    await sqlite_client.post("/v1/users/", json={"email": "bob@example.com", "password": PASSWORD})
    login = await sqlite_client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    auth = bearer(login.json()["access_token"])

    taken = await sqlite_client.patch(
        "/v1/users/me",
        json={"email": "Bob@example.com", "current_password": PASSWORD},
        headers=auth,
    )
    renamed = await sqlite_client.patch(
        "/v1/users/me",
        json={"email": "ann2@example.com", "current_password": PASSWORD},
        headers=auth,
    )
    deleted = await sqlite_client.request(
        "DELETE", "/v1/users/me", json={"current_password": PASSWORD}, headers=auth
    )

    assert taken.status_code == 400
    assert taken.json()["code"] == "UPDATE_USER_EMAIL_ALREADY_EXISTS"
    assert renamed.status_code == 200
    assert renamed.json()["email"] == "ann2@example.com"
    assert deleted.status_code == 204
    assert (await sqlite_client.get("/v1/users/me", headers=auth)).status_code == 401


async def test_sqlite_timestamps_are_reported_in_utc(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await anyio.to_thread.run_sync(run_migrations, url)
    async with running(create_app(make_settings(url))) as client:
        user = await register(client, "ann@example.com")

    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None


async def test_sqlite_service_keys_and_introspection(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await anyio.to_thread.run_sync(run_migrations, url)
    settings = make_settings(url)
    await create_superuser(settings, "root@example.com", PASSWORD)
    async with running(create_app(settings)) as client:
        token = await login(client, "root@example.com")
        created = await client.post(
            "/v1/service-keys", json={"name": "billing"}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        taken = await client.post(
            "/v1/service-keys", json={"name": "BILLING"}, headers=bearer(token)
        )
        key = bearer(created.json()["key"])

        live = await client.post("/v1/tokens/introspect", data={"token": token}, headers=key)
        revoked = await client.delete(
            f"/v1/service-keys/{created.json()['id']}", headers=bearer(token)
        )
        refused = await client.post("/v1/tokens/introspect", data={"token": token}, headers=key)
        reused = await client.post(
            "/v1/service-keys", json={"name": "billing"}, headers=bearer(token)
        )

    assert taken.json()["code"] == "SERVICE_KEY_NAME_TAKEN"
    assert live.json()["active"] is True
    assert (revoked.status_code, refused.status_code, reused.status_code) == (204, 401, 201)


async def test_sqlite_roles_are_given_shown_and_deleted(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await anyio.to_thread.run_sync(run_migrations, url)
    await create_superuser(make_settings(url), "root@example.com", PASSWORD)
    async with running(create_app(make_settings(url))) as client:
        ann = await register(client, "ann@example.com")
        root = bearer(await login(client, "root@example.com"))
        for name in ("editor", "viewer"):
            created = await client.post("/v1/roles", json={"name": name}, headers=root)
            assert created.status_code == 201, created.text
        given = await client.put(
            f"/v1/users/{ann['id']}/roles", json=["viewer", "editor"], headers=root
        )
        deleted = await client.delete("/v1/roles/editor", headers=root)
        me = await client.get("/v1/users/me", headers=bearer(await login(client, ann["email"])))

    assert given.json() == ["editor", "viewer"]
    assert deleted.status_code == 204
    assert me.json()["roles"] == ["viewer"]
