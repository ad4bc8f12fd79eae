"""The audit log records every security event, with who, where and when; failed attempts
survive their request's rollback, and a change that rolls back leaves no record."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.bootstrap import UNAUDITED
from app.cli import create_superuser
from app.core.events import EventType
from app.main import create_app
from app.services.audit import _address
from tests.conftest import PASSWORD, bearer, login, make_settings, register
from tests.smtp import Inbox, smtp_server

NEW_PASSWORD = "a fresh new password"
AGENT = "audit-test-agent/1.0"


@pytest.fixture
def mailbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def audited(
    client_for: Any, mailbox: tuple[Inbox, int]
) -> AsyncIterator[tuple[AsyncClient, Inbox]]:
    """A client with real mail delivery (for links) and a recognisable user agent; a reuse
    grace of 0 s so a second use of a refresh token counts as reuse at once."""
    inbox, port = mailbox
    async with client_for(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", refresh_reuse_grace_seconds=0
    ) as client:
        client.headers["User-Agent"] = AGENT
        yield client, inbox


async def events(db_engine: AsyncEngine, **where: Any) -> list[dict[str, Any]]:
    clause = " AND ".join(f"{column} = :{column}" for column in where) or "true"
    async with db_engine.connect() as connection:
        rows = await connection.execute(
            text(f"SELECT * FROM audit_events WHERE {clause} ORDER BY occurred_at"),  # noqa: S608
            where,
        )
        return [dict(row._mapping) for row in rows]


async def superuser(db_engine: AsyncEngine, client: AsyncClient) -> str:
    url = db_engine.url.render_as_string(hide_password=False)
    await create_superuser(make_settings(url), "root@example.com", PASSWORD)
    return await login(client, "root@example.com")


@dataclass
class Seen:
    """What a scenario expects of the one event of its type."""

    user_id: str | None
    actor_id: str | None = None
    session_known: bool = False
    detail: dict[str, Any] | None = None


Scenario = Callable[[AsyncClient, Inbox, AsyncEngine], Awaitable[Seen]]


async def _registered(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    return Seen(user["id"])


async def _login_succeeded(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    await login(client, "ann@example.com")
    return Seen(user["id"], session_known=True)


async def _login_failed(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    await client.post("/v1/users/login", json={"email": "ann@example.com", "password": "wrong!!!"})
    return Seen(user["id"], detail={"reason": "bad_password"})


async def _logout(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    assert (await client.post("/v1/users/logout", headers=bearer(token))).status_code == 204
    return Seen(user["id"], actor_id=user["id"], session_known=True)


async def _session_revoked(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    await login(client, "ann@example.com")
    listed = (await client.get("/v1/users/me/sessions", headers=bearer(token))).json()
    [target] = [s for s in listed if not s["current"]]
    revoked = await client.delete(f"/v1/users/me/sessions/{target['id']}", headers=bearer(token))
    assert revoked.status_code == 204
    return Seen(user["id"], actor_id=user["id"], session_known=True)


async def _refresh_token_reused(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    tokens = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    refresh = {"refresh_token": tokens.json()["refresh_token"]}
    assert (await client.post("/v1/users/refresh", json=refresh)).status_code == 200
    assert (await client.post("/v1/users/refresh", json=refresh)).status_code == 401
    return Seen(user["id"], session_known=True)


async def _current_password_failed(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    refused = await client.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"password": NEW_PASSWORD, "current_password": "not my password"},
    )
    assert refused.status_code == 400
    return Seen(user["id"], actor_id=user["id"])


async def _password_changed(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    changed = await client.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )
    assert changed.status_code == 200
    return Seen(user["id"], actor_id=user["id"], session_known=True)


async def _password_reset_requested(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    await client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    return Seen(user["id"])


async def _password_reset(client: AsyncClient, inbox: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    await client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    [reset_mail] = [m for m in await inbox.wait_for(2) if m["Subject"] == "Reset your password"]
    token = inbox.link_token(reset_mail, "/reset-password")
    done = await client.post(
        "/v1/users/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    return Seen(user["id"])


async def _email_changed(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    changed = await client.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"email": "ann@new.example.com", "current_password": PASSWORD},
    )
    assert changed.status_code == 200
    detail = {"old_email": "ann@example.com", "new_email": "ann@new.example.com"}
    return Seen(user["id"], actor_id=user["id"], session_known=True, detail=detail)


async def _email_verified(client: AsyncClient, inbox: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = inbox.link_token((await inbox.wait_for(1))[0], "/verify-email")
    assert (await client.post("/v1/users/verify", json={"token": token})).status_code == 200
    return Seen(user["id"])


async def _admin_patch(
    client: AsyncClient, db_engine: AsyncEngine, *changes: dict[str, Any]
) -> tuple[str, str]:
    user = await register(client, "ann@example.com")
    admin = await superuser(db_engine, client)
    for change in changes:
        response = await client.patch(f"/v1/users/{user['id']}", headers=bearer(admin), json=change)
        assert response.status_code == 200, response.text
    me = await client.get("/v1/users/me", headers=bearer(admin))
    return user["id"], me.json()["id"]


async def _account_deactivated(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    user_id, admin_id = await _admin_patch(client, db_engine, {"is_active": False})
    return Seen(user_id, actor_id=admin_id)


async def _account_reactivated(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    user_id, admin_id = await _admin_patch(
        client, db_engine, {"is_active": False}, {"is_active": True}
    )
    return Seen(user_id, actor_id=admin_id)


async def _admin_user_updated(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    user_id, admin_id = await _admin_patch(client, db_engine, {"is_superuser": True})
    return Seen(user_id, actor_id=admin_id, detail={"fields": ["is_superuser"]})


async def _account_deleted(client: AsyncClient, _: Inbox, __: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    deleted = await client.request(
        "DELETE", "/v1/users/me", headers=bearer(token), json={"current_password": PASSWORD}
    )
    assert deleted.status_code == 204
    return Seen(user["id"], actor_id=user["id"], detail={"email": "ann@example.com"})


async def _admin_user_deleted(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    admin = await superuser(db_engine, client)
    assert (await client.delete(f"/v1/users/{user['id']}", headers=bearer(admin))).is_success
    admin_id = (await client.get("/v1/users/me", headers=bearer(admin))).json()["id"]
    return Seen(user["id"], actor_id=admin_id, detail={"email": "ann@example.com"})


async def _superuser_created(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    await superuser(db_engine, client)
    root = (await events(db_engine, type="registered"))[0]["user_id"]
    return Seen(str(root), detail={"promoted": False})


async def _service_key(client: AsyncClient, db_engine: AsyncEngine, *, revoke: bool) -> Seen:
    admin = await superuser(db_engine, client)
    admin_id = (await client.get("/v1/users/me", headers=bearer(admin))).json()["id"]
    created = await client.post(
        "/v1/service-keys", json={"name": "billing-api"}, headers=bearer(admin)
    )
    assert created.status_code == 201
    key_id = created.json()["id"]
    if revoke:
        revoked = await client.delete(f"/v1/service-keys/{key_id}", headers=bearer(admin))
        assert revoked.status_code == 204
    # The admin's own account: it shows in their activity.
    return Seen(
        admin_id, actor_id=admin_id, detail={"service_key_id": key_id, "name": "billing-api"}
    )


async def _service_key_created(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    return await _service_key(client, db_engine, revoke=False)


async def _service_key_revoked(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    return await _service_key(client, db_engine, revoke=True)


async def _role_admin(client: AsyncClient, db_engine: AsyncEngine) -> tuple[dict[str, str], str]:
    admin = bearer(await superuser(db_engine, client))
    created = await client.post("/v1/roles", json={"name": "editor"}, headers=admin)
    assert created.status_code == 201, created.text
    return admin, (await client.get("/v1/users/me", headers=admin)).json()["id"]


async def _role_created(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    __, admin_id = await _role_admin(client, db_engine)
    return Seen(None, actor_id=admin_id, detail={"name": "editor"})


async def _role_deleted(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    admin, admin_id = await _role_admin(client, db_engine)
    assert (await client.delete("/v1/roles/editor", headers=admin)).status_code == 204
    return Seen(None, actor_id=admin_id, detail={"name": "editor", "holders": 0})


async def _user_roles_changed(client: AsyncClient, _: Inbox, db_engine: AsyncEngine) -> Seen:
    user = await register(client, "ann@example.com")
    admin, admin_id = await _role_admin(client, db_engine)
    given = await client.put(f"/v1/users/{user['id']}/roles", json=["editor"], headers=admin)
    assert given.status_code == 200, given.text
    detail = {"added": ["editor"], "removed": [], "roles": ["editor"]}
    return Seen(user["id"], actor_id=admin_id, detail=detail)


SCENARIOS: dict[EventType, Scenario] = {
    EventType.REGISTERED: _registered,
    EventType.LOGIN_SUCCEEDED: _login_succeeded,
    EventType.LOGIN_FAILED: _login_failed,
    EventType.LOGOUT: _logout,
    EventType.SESSION_REVOKED: _session_revoked,
    EventType.REFRESH_TOKEN_REUSED: _refresh_token_reused,
    EventType.CURRENT_PASSWORD_FAILED: _current_password_failed,
    EventType.PASSWORD_CHANGED: _password_changed,
    EventType.PASSWORD_RESET_REQUESTED: _password_reset_requested,
    EventType.PASSWORD_RESET: _password_reset,
    EventType.EMAIL_CHANGED: _email_changed,
    EventType.EMAIL_VERIFIED: _email_verified,
    EventType.ACCOUNT_DEACTIVATED: _account_deactivated,
    EventType.ACCOUNT_REACTIVATED: _account_reactivated,
    EventType.ACCOUNT_DELETED: _account_deleted,
    EventType.ADMIN_USER_UPDATED: _admin_user_updated,
    EventType.ADMIN_USER_DELETED: _admin_user_deleted,
    EventType.SUPERUSER_CREATED: _superuser_created,
    EventType.SERVICE_KEY_CREATED: _service_key_created,
    EventType.SERVICE_KEY_REVOKED: _service_key_revoked,
    EventType.ROLE_CREATED: _role_created,
    EventType.ROLE_DELETED: _role_deleted,
    EventType.USER_ROLES_CHANGED: _user_roles_changed,
}
# Events the CLI emits carry no client address (see tests/test_cli.py for the process).
WITHOUT_CLIENT = {EventType.SUPERUSER_CREATED}


def test_every_event_type_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(EventType) - UNAUDITED


@pytest.mark.parametrize("event_type", list(SCENARIOS), ids=str)
async def test_each_security_event_is_recorded_with_who_where_and_when(
    event_type: EventType,
    audited: tuple[AsyncClient, Inbox],
    db_engine: AsyncEngine,
) -> None:
    client, inbox = audited

    seen = await SCENARIOS[event_type](client, inbox, db_engine)

    [event] = await events(db_engine, type=event_type.value)
    assert (str(event["user_id"]) if event["user_id"] else None) == seen.user_id
    assert (str(event["actor_id"]) if event["actor_id"] else None) == seen.actor_id
    assert (event["session_id"] is not None) == seen.session_known
    assert event["occurred_at"] is not None
    if event_type in WITHOUT_CLIENT:
        assert (event["ip_address"], event["user_agent"]) == (None, "app.cli")
    else:
        assert (event["ip_address"], event["user_agent"]) == ("127.0.0.1", AGENT)
    if seen.detail is not None:
        assert event["detail"] == seen.detail
    recorded = repr(event)
    assert PASSWORD not in recorded and NEW_PASSWORD not in recorded


@pytest.mark.parametrize(
    ("email", "password", "deactivate", "reason"),
    [
        ("ann@example.com", "wrong password", False, "bad_password"),
        ("nobody@example.com", PASSWORD, False, "unknown_email"),
        ("ann@example.com", PASSWORD, True, "inactive"),
    ],
)
async def test_a_failed_login_is_recorded_although_its_request_fails(
    client: AsyncClient,
    db_engine: AsyncEngine,
    email: str,
    password: str,
    deactivate: bool,
    reason: str,
) -> None:
    user = await register(client, "ann@example.com")
    if deactivate:
        async with db_engine.begin() as connection:
            await connection.execute(text("UPDATE users SET is_active = false"))

    response = await client.post("/v1/users/login", json={"email": email, "password": password})

    assert response.status_code == 400
    [event] = await events(db_engine, type="login_failed")
    assert event["detail"] == {"reason": reason}
    expected_user = None if reason == "unknown_email" else uuid.UUID(user["id"])
    assert event["user_id"] == expected_user


async def test_a_rolled_back_change_records_nothing(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    app = create_app(make_settings(migrated_database_url, plugins=["tests.plugins.failing"]))
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
            )

    assert response.status_code == 500
    assert await events(db_engine) == []


async def test_reading_your_profile_records_nothing(
    client: AsyncClient, user_token: str, db_engine: AsyncEngine
) -> None:
    before = len(await events(db_engine))

    assert (await client.get("/v1/users/me", headers=bearer(user_token))).status_code == 200

    assert len(await events(db_engine)) == before


def test_only_a_real_ip_address_is_stored() -> None:
    assert _address("127.0.0.1") == "127.0.0.1"
    assert _address("::1") == "::1"
    assert _address("x" * 100) is None
    assert _address("fe80::1%" + "e" * 60) is None  # valid, with a zone, but too long
    assert _address(None) is None
