"""GET /v1/users/me/events (your own) and GET /v1/audit-events (superusers, filtered)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.main import create_app
from tests.conftest import bearer, login, register

ME_EVENTS = "/v1/users/me/events"
AUDIT_EVENTS = "/v1/audit-events"
START = datetime(2026, 1, 1, tzinfo=UTC)


async def add_events(
    db_engine: AsyncEngine, user_id: str | None, count: int, type: str = "login_succeeded"
) -> None:
    """`count` events an hour apart from START, the first one hour after START."""
    async with db_engine.begin() as connection:
        for hour in range(1, count + 1):
            await connection.execute(
                text(
                    "INSERT INTO audit_events (id, occurred_at, type, user_id, detail) "
                    "VALUES (:id, :at, :type, :user_id, '{}')"
                ),
                {
                    "id": uuid.uuid4(),
                    "at": START + timedelta(hours=hour),
                    "type": type,
                    "user_id": uuid.UUID(user_id) if user_id else None,
                },
            )


async def user_id_of(client: AsyncClient, token: str) -> str:
    user_id: str = (await client.get("/v1/users/me", headers=bearer(token))).json()["id"]
    return user_id


async def test_my_events_are_mine_only_newest_first_with_their_fields(
    client: AsyncClient, user_token: str, db_engine: AsyncEngine
) -> None:
    await register(client, "bob@example.com")
    await login(client, "bob@example.com")
    await client.post("/v1/users/login", json={"email": "ann@example.com", "password": "nope!!!!"})

    response = await client.get(ME_EVENTS, headers=bearer(user_token))

    assert response.status_code == 200
    page = response.json()
    me = await user_id_of(client, user_token)
    assert [event["type"] for event in page["items"]] == [
        "login_failed",
        "login_succeeded",
        "registered",
    ]
    assert {event["user_id"] for event in page["items"]} == {me}
    newest = page["items"][0]
    assert newest["detail"] == {"reason": "bad_password"}
    assert newest["ip_address"] == "127.0.0.1"
    assert set(newest) >= {"occurred_at", "user_agent", "session_id", "actor_id"}
    assert page["items"][1]["session_id"] is not None
    assert (page["limit"], page["offset"], page["next_offset"]) == (20, 0, None)


async def test_my_events_page_through_with_limit_and_offset(
    client: AsyncClient, user_token: str, db_engine: AsyncEngine
) -> None:
    await add_events(db_engine, await user_id_of(client, user_token), 5)  # older than the real two

    first = (await client.get(ME_EVENTS, params={"limit": 3}, headers=bearer(user_token))).json()
    second = (
        await client.get(
            ME_EVENTS,
            params={"limit": 4, "offset": first["next_offset"]},
            headers=bearer(user_token),
        )
    ).json()

    assert first["next_offset"] == 3 and len(first["items"]) == 3
    assert second["next_offset"] is None and len(second["items"]) == 4
    times = [event["occurred_at"] for event in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    assert len({event["id"] for event in first["items"] + second["items"]}) == 7


async def test_my_events_need_a_signed_in_user(client: AsyncClient) -> None:
    response = await client.get(ME_EVENTS)

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}, {"offset": 2**31}],
)
async def test_my_events_refuse_bad_paging_with_422(
    client: AsyncClient, user_token: str, params: dict[str, Any]
) -> None:
    response = await client.get(ME_EVENTS, params=params, headers=bearer(user_token))

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_a_superuser_reads_every_accounts_events(
    client: AsyncClient, user_token: str, superuser_token: str
) -> None:
    response = await client.get(AUDIT_EVENTS, headers=bearer(superuser_token))

    assert response.status_code == 200
    users = {event["user_id"] for event in response.json()["items"]}
    assert users == {
        await user_id_of(client, user_token),
        await user_id_of(client, superuser_token),
    }


async def test_audit_events_filter_by_user_type_and_time(
    client: AsyncClient, user_token: str, superuser_token: str, db_engine: AsyncEngine
) -> None:
    ann = await user_id_of(client, user_token)
    await add_events(db_engine, ann, 10, type="logout")
    await add_events(db_engine, None, 3, type="logout")

    async def search(**params: Any) -> list[dict[str, Any]]:
        response = await client.get(AUDIT_EVENTS, params=params, headers=bearer(superuser_token))
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    by_user = await search(user_id=ann, limit=100)
    by_type = await search(type="logout", limit=100)
    window = await search(
        user_id=ann,
        type="logout",
        since=(START + timedelta(hours=3)).isoformat(),
        until="2026-01-01T07:00:00",  # no offset: UTC
    )

    assert len(by_user) == 12 and {event["user_id"] for event in by_user} == {ann}
    assert len(by_type) == 13 and {event["type"] for event in by_type} == {"logout"}
    assert [event["occurred_at"][11:13] for event in window] == ["06", "05", "04", "03"]


async def test_audit_events_are_for_superusers_only(client: AsyncClient, user_token: str) -> None:
    anonymous = await client.get(AUDIT_EVENTS)
    user = await client.get(AUDIT_EVENTS, headers=bearer(user_token))

    assert anonymous.status_code == 401
    assert user.status_code == 403
    assert user.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "params",
    [
        {"type": "no_such_event"},
        {"user_id": "not-a-uuid"},
        {"since": "yesterday"},
        {"until": "0.5"},  # not read as seconds since the epoch
        {"since": "2026-01-01"},  # a date without a time
        {"until": "2026-13-01T00:00:00"},
        {"since": "0001-01-01T00:00:00+01:00"},  # before the first representable UTC time
        {"limit": 1000},
    ],
)
async def test_audit_events_refuse_bad_filters_with_422(
    client: AsyncClient, superuser_token: str, params: dict[str, Any]
) -> None:
    response = await client.get(AUDIT_EVENTS, params=params, headers=bearer(superuser_token))

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_my_events_path_is_not_taken_for_a_user_id(
    client: AsyncClient, superuser_token: str
) -> None:
    # /v1/users/{user_id} is a superuser route; "me/events" must reach its own endpoint.
    response = await client.get(ME_EVENTS, headers=bearer(superuser_token))

    assert response.status_code == 200
    assert "items" in response.json()


def _type_filter_enum(app: FastAPI) -> list[str]:
    (parameter,) = [
        p for p in app.openapi()["paths"][AUDIT_EVENTS]["get"]["parameters"] if p["name"] == "type"
    ]
    names: list[str] = parameter["schema"]["anyOf"][0]["enum"]
    return names


async def test_an_app_knows_the_event_types_of_its_own_plugins_only(
    client: AsyncClient, app: FastAPI, superuser_token: str, settings: Settings
) -> None:
    # Another app in this process enables totp (its module is imported, its types declared);
    # `app` doesn't: its document must not offer, nor its server take, totp's types.
    with_totp = create_app(settings.model_copy(update={"plugins": ["totp"]}))

    assert "mfa_failed" in _type_filter_enum(with_totp)
    assert "mfa_failed" not in _type_filter_enum(app)
    assert "login_failed" in _type_filter_enum(app)
    response = await client.get(
        AUDIT_EVENTS, params={"type": "mfa_failed"}, headers=bearer(superuser_token)
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "query.type")
