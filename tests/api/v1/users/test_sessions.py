import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import asyncpg  # type: ignore[import-untyped]
import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from tests.conftest import PASSWORD, bearer, register

LOGIN = "/v1/users/login"
REFRESH = "/v1/users/refresh"
LOGOUT = "/v1/users/logout"
COOKIE_MODE = {"X-Refresh-Token-Delivery": "cookie"}


async def sign_in(
    client: AsyncClient, email: str = "ann@example.com", user_agent: str = "pytest"
) -> dict[str, str]:
    response = await client.post(
        LOGIN, json={"email": email, "password": PASSWORD}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def me_status(client: AsyncClient, access_token: str) -> int:
    return (await client.get("/v1/users/me", headers=bearer(access_token))).status_code


@pytest.fixture
async def ann(client: AsyncClient) -> None:
    await register(client, "ann@example.com")


@pytest.mark.usefixtures("ann")
async def test_login_returns_an_opaque_256_bit_refresh_token_stored_only_as_a_hash(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    tokens = await sign_in(client)

    assert len(tokens["refresh_token"]) >= 43  # 32 random bytes, base64url
    async with db_engine.connect() as connection:
        digests = (await connection.execute(text("SELECT digest FROM refresh_tokens"))).scalars()
        stored = list(digests)
    assert len(stored) == 1 and tokens["refresh_token"] not in stored[0]


@pytest.mark.usefixtures("ann")
async def test_access_token_carries_the_session_claims(client: AsyncClient) -> None:
    tokens = await sign_in(client)

    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

    assert set(claims) >= {"iss", "aud", "sub", "sid", "iat", "exp", "jti"}
    assert claims["exp"] - claims["iat"] == tokens["expires_in"]


@pytest.mark.usefixtures("ann")
async def test_refresh_rotates_the_refresh_token(client: AsyncClient) -> None:
    first = await sign_in(client)

    second = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert await me_status(client, rotated["access_token"]) == 200
    third = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert third.status_code == 200


@pytest.mark.usefixtures("ann")
async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    client_for: object, db_engine: AsyncEngine
) -> None:
    async with client_for(refresh_reuse_grace_seconds=0) as client:  # type: ignore[operator]
        first = await sign_in(client)
        second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
        await asyncio.sleep(0.05)

        reuse = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

        assert reuse.status_code == 401
        assert reuse.json()["code"] == "REFRESH_TOKEN_INVALID"
        # Both the thief's and the owner's tokens are dead now.
        assert await me_status(client, second["access_token"]) == 401
        assert await me_status(client, first["access_token"]) == 401
        after = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
        assert after.status_code == 401


@pytest.mark.usefixtures("ann")
async def test_two_refreshes_within_the_grace_window_both_succeed(client: AsyncClient) -> None:
    first = await sign_in(client)

    tab_a, tab_b = await asyncio.gather(
        client.post(REFRESH, json={"refresh_token": first["refresh_token"]}),
        client.post(REFRESH, json={"refresh_token": first["refresh_token"]}),
    )

    assert (tab_a.status_code, tab_b.status_code) == (200, 200)
    for tab in (tab_a, tab_b):
        assert await me_status(client, tab.json()["access_token"]) == 200
        again = await client.post(REFRESH, json={"refresh_token": tab.json()["refresh_token"]})
        assert again.status_code == 200


async def test_unknown_or_missing_refresh_token_is_401(client: AsyncClient) -> None:
    unknown = await client.post(REFRESH, json={"refresh_token": "x" * 43})
    missing = await client.post(REFRESH, json={})

    assert (unknown.status_code, missing.status_code) == (401, 401)
    assert unknown.json()["code"] == missing.json()["code"] == "REFRESH_TOKEN_INVALID"


@pytest.mark.usefixtures("ann")
async def test_logout_ends_the_session_at_once(client: AsyncClient) -> None:
    tokens = await sign_in(client)
    assert await me_status(client, tokens["access_token"]) == 200

    response = await client.post(LOGOUT, headers=bearer(tokens["access_token"]))

    assert response.status_code == 204
    assert await me_status(client, tokens["access_token"]) == 401
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


@pytest.mark.usefixtures("ann")
async def test_logout_with_only_the_refresh_token_ends_the_session(client: AsyncClient) -> None:
    tokens = await sign_in(client)

    response = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    assert await me_status(client, tokens["access_token"]) == 401


@pytest.mark.usefixtures("ann")
async def test_logout_leaves_other_sessions_alone(client: AsyncClient) -> None:
    laptop, phone = await sign_in(client), await sign_in(client)

    await client.post(LOGOUT, headers=bearer(laptop["access_token"]))

    assert await me_status(client, phone["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_sessions_list_shows_devices_and_marks_the_current_one(client: AsyncClient) -> None:
    await sign_in(client, user_agent="Laptop Firefox")
    phone = await sign_in(client, user_agent="Phone Safari")

    response = await client.get("/v1/users/me/sessions", headers=bearer(phone["access_token"]))

    assert response.status_code == 200
    sessions = response.json()
    assert {s["user_agent"] for s in sessions} == {"Laptop Firefox", "Phone Safari"}
    assert [s["user_agent"] for s in sessions if s["current"]] == ["Phone Safari"]
    assert all(s["ip_address"] for s in sessions)


@pytest.mark.usefixtures("ann")
async def test_revoking_one_session_by_id_ends_only_that_one(client: AsyncClient) -> None:
    laptop, phone = await sign_in(client), await sign_in(client)
    listed = await client.get("/v1/users/me/sessions", headers=bearer(phone["access_token"]))
    laptop_id = next(s["id"] for s in listed.json() if not s["current"])

    response = await client.delete(
        f"/v1/users/me/sessions/{laptop_id}", headers=bearer(phone["access_token"])
    )

    assert response.status_code == 204
    assert await me_status(client, laptop["access_token"]) == 401
    assert await me_status(client, phone["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_revoking_someone_elses_session_is_404(client: AsyncClient) -> None:
    await register(client, "bob@example.com")
    bob = await sign_in(client, "bob@example.com")
    ann = await sign_in(client)
    ann_sid = jwt.decode(ann["access_token"], options={"verify_signature": False})["sid"]

    response = await client.delete(
        f"/v1/users/me/sessions/{ann_sid}", headers=bearer(bob["access_token"])
    )

    assert response.status_code == 404
    assert response.json()["code"] == "SESSION_NOT_FOUND"
    assert await me_status(client, ann["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_log_out_everywhere_else_keeps_only_the_current_session(client: AsyncClient) -> None:
    others = [await sign_in(client) for _ in range(3)]
    current = await sign_in(client)

    response = await client.delete("/v1/users/me/sessions", headers=bearer(current["access_token"]))

    assert response.status_code == 204
    assert [await me_status(client, o["access_token"]) for o in others] == [401, 401, 401]
    assert await me_status(client, current["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_password_change_ends_other_sessions_but_not_this_one(client: AsyncClient) -> None:
    other, current = await sign_in(client), await sign_in(client)

    response = await client.patch(
        "/v1/users/me",
        headers=bearer(current["access_token"]),
        json={"password": "a brand new password", "current_password": PASSWORD},
    )

    assert response.status_code == 200
    assert await me_status(client, other["access_token"]) == 401
    refresh = await client.post(REFRESH, json={"refresh_token": other["refresh_token"]})
    assert refresh.status_code == 401
    assert await me_status(client, current["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_email_change_ends_other_sessions(client: AsyncClient) -> None:
    other, current = await sign_in(client), await sign_in(client)

    await client.patch(
        "/v1/users/me",
        headers=bearer(current["access_token"]),
        json={"email": "ann.new@example.com", "current_password": PASSWORD},
    )

    assert await me_status(client, other["access_token"]) == 401
    assert await me_status(client, current["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_deactivated_user_loses_every_session(
    client: AsyncClient, superuser_token: str
) -> None:
    tokens = await sign_in(client)
    me = (await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))).json()

    await client.patch(
        f"/v1/users/{me['id']}", headers=bearer(superuser_token), json={"is_active": False}
    )

    assert await me_status(client, tokens["access_token"]) == 401
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    # Reactivating does not bring the old sessions back.
    await client.patch(
        f"/v1/users/{me['id']}", headers=bearer(superuser_token), json={"is_active": True}
    )
    assert await me_status(client, tokens["access_token"]) == 401


@pytest.mark.usefixtures("ann")
async def test_deleted_account_has_no_sessions_left(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    tokens = await sign_in(client)

    await client.request(
        "DELETE",
        "/v1/users/me",
        headers=bearer(tokens["access_token"]),
        json={"current_password": PASSWORD},
    )

    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM sessions")) == 0
        assert await connection.scalar(text("SELECT count(*) FROM refresh_tokens")) == 0
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def _forge(app: FastAPI, claims: dict[str, Any]) -> str:
    """Signed with the app's own key: only the claims are wrong."""
    signed: str = app.state.context.tokens.ring.sign(claims)
    return signed


@pytest.mark.usefixtures("ann")
@pytest.mark.parametrize(
    "change",
    [
        {"sid": None},
        {"jti": None},
        {"iss": None},
        {"iat": None},
        {"sid": "not-a-uuid"},
        {"sid": str(uuid.UUID(int=1))},
        {"iss": "someone-else"},
    ],
)
async def test_tokens_with_missing_or_tampered_session_claims_are_401(
    client: AsyncClient, app: FastAPI, change: dict[str, object]
) -> None:
    claims = jwt.decode(
        (await sign_in(client))["access_token"], options={"verify_signature": False}
    )
    for name, value in change.items():
        if value is None:
            claims.pop(name)
        else:
            claims[name] = value

    assert await me_status(client, _forge(app, claims)) == 401


@pytest.mark.usefixtures("ann")
async def test_a_session_of_another_user_cannot_be_borrowed(
    client: AsyncClient, app: FastAPI
) -> None:
    await register(client, "bob@example.com")
    bob = jwt.decode(
        (await sign_in(client, "bob@example.com"))["access_token"],
        options={"verify_signature": False},
    )
    ann = jwt.decode((await sign_in(client))["access_token"], options={"verify_signature": False})

    forged = _forge(app, {**bob, "sid": ann["sid"]})

    assert await me_status(client, forged) == 401


@pytest.mark.usefixtures("ann")
async def test_purge_removes_expired_and_revoked_sessions(
    client: AsyncClient, db_engine: AsyncEngine, settings: Settings
) -> None:
    from app.context import AppContext
    from app.core.events import EventBus
    from app.services.sessions import SessionService

    expired, revoked, live = await sign_in(client), await sign_in(client), await sign_in(client)
    await client.post(LOGOUT, headers=bearer(revoked["access_token"]))
    expired_sid = jwt.decode(expired["access_token"], options={"verify_signature": False})["sid"]
    async with db_engine.begin() as connection:
        await connection.execute(
            text("UPDATE sessions SET expires_at = :past WHERE id = :sid"),
            {"past": datetime.now(UTC) - timedelta(minutes=1), "sid": uuid.UUID(expired_sid)},
        )

    context = AppContext.build(settings, EventBus())
    async with context.sessionmaker() as session, session.begin():
        purged = await SessionService(session, settings).purge()
    await context.engine.dispose()

    assert purged == 2
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM sessions")) == 1
        tokens_left = await connection.scalar(text("SELECT count(*) FROM refresh_tokens"))
    assert tokens_left == 1
    assert await me_status(client, live["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_me_costs_a_single_database_round_trip(client: AsyncClient, app: object) -> None:
    from sqlalchemy import event

    tokens = await sign_in(client)
    statements: list[str] = []
    engine = app.state.context.engine.sync_engine  # type: ignore[attr-defined]

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    # The token check runs on the pooled asyncpg connection itself, past the engine's
    # events (app/db/session.py EntityRead): the driver sees it.
    execute = asyncpg.Connection._execute

    async def count_driver(connection: object, query: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(query)
        return await execute(connection, query, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with patch.object(asyncpg.Connection, "_execute", count_driver):
            response = await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert response.status_code == 200
    assert len(statements) == 1, statements
    assert "sessions" in statements[0] and "users" in statements[0]


@pytest.mark.usefixtures("ann")
async def test_expired_access_token_is_refused_but_refresh_still_works(client_for: object) -> None:
    async with client_for(access_token_lifetime_seconds=1) as client:  # type: ignore[operator]
        tokens = await sign_in(client)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        wait = claims["exp"] + 6 - time.time()  # past the 5-second leeway
        await asyncio.sleep(max(wait, 0))

        assert await me_status(client, tokens["access_token"]) == 401
        refreshed = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        assert await me_status(client, refreshed.json()["access_token"]) == 200


@pytest.mark.usefixtures("ann")
async def test_the_background_purge_runs_while_the_app_is_up(
    client_for: object, db_engine: AsyncEngine
) -> None:
    async with client_for(session_purge_interval_seconds=1) as client:  # type: ignore[operator]
        tokens = await sign_in(client)
        await client.post(LOGOUT, headers=bearer(tokens["access_token"]))
        async with db_engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM sessions")) == 1

        for _ in range(50):  # up to 5 s for the first round
            await asyncio.sleep(0.1)
            async with db_engine.connect() as connection:
                if await connection.scalar(text("SELECT count(*) FROM sessions")) == 0:
                    break
        else:
            pytest.fail("the revoked session was never purged")
