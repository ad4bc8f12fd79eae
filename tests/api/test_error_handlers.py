"""Every error is `{"code", "message"}` JSON; nothing internal ever reaches a client."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.plugins.api import EventType, Plugin, PluginSettings, SecurityEvent
from tests.api.test_middleware import assert_security_headers
from tests.conftest import PASSWORD, bearer, make_settings, register

# Words that would mean internals leaked: libraries, SQL, Python tracebacks.
LEAKS = (
    "traceback",
    "sqlalchemy",
    "asyncpg",
    "psycopg",
    "pydantic",
    "starlette",
    "fastapi",
    "zxcvbn",
    "integrityerror",
    "select ",
    "insert into",
    "update users",
    "delete from",
    "users.",
    "bcrypt",
    "pwdlib",
    "jwt",
    'file "',
    ".py",
    "exception",
    "errno",
    "uq_users",
)

SECRET_IN_HANDLER = "boom in SELECT hashed_password FROM users via sqlalchemy"


def assert_clean_error(response: Response) -> None:
    body = response.json()
    assert set(body) <= {"code", "message", "errors", "reason"}, body
    assert isinstance(body["code"], str) and body["code"].isupper()
    assert isinstance(body["message"], str) and body["message"]
    lowered = response.text.lower()
    for leak in LEAKS:
        assert leak not in lowered, (leak, response.text)


async def explode(event: SecurityEvent, session: AsyncSession) -> None:
    raise RuntimeError(SECRET_IN_HANDLER)


# A plugin whose registration hook crashes with a message full of internals.
plugin = Plugin(
    name="failing",
    settings=PluginSettings,
    subscribe=lambda events, _: events.subscribe(EventType.REGISTERED, explode),
)


@asynccontextmanager
async def crashing_app_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    """Like conftest's client, but a crash becomes the app's 500 response, not a test error."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_unexpected_error_is_a_generic_500_and_undoes_the_change(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    settings = make_settings(migrated_database_url, plugins=[f"{__name__}:plugin"])

    async with crashing_app_client(settings) as client:
        response = await client.post(
            "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
        )

    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "boom" not in response.text
    assert_clean_error(response)
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 0


async def test_unexpected_error_500_carries_the_security_headers(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    settings = make_settings(migrated_database_url, plugins=[f"{__name__}:plugin"])

    async with crashing_app_client(settings) as client:
        response = await client.post(
            "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
        )

    assert response.status_code == 500
    assert_security_headers(response)


async def test_unknown_api_path_is_404_json(client: AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
    assert_clean_error(response)


async def test_wrong_method_is_405_json(client: AsyncClient) -> None:
    response = await client.put("/v1/users/login", json={})

    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert_clean_error(response)


async def test_wrong_method_405_lists_the_routes_allowed_methods(client: AsyncClient) -> None:
    response = await client.put("/v1/users/login", json={})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def _error_responses(client: AsyncClient, user_token: str) -> list[Response]:
    await register(client, "bob@example.com")
    auth = bearer(user_token)
    json_type = {"Content-Type": "application/json"}
    return [
        await client.post("/v1/users/", json={"email": "bob@example.com", "password": PASSWORD}),
        await client.post("/v1/users/", json={"email": "x@example.com", "password": "short"}),
        await client.post("/v1/users/", json={"email": "nope", "password": PASSWORD}),
        await client.post("/v1/users/", content=b"{not json", headers=json_type),
        await client.post("/v1/users/", content=b"\xff\xfe\x00", headers=json_type),
        await client.post("/v1/users/", json={"email": "x@example.com", "password": 1}),
        await client.post("/v1/users/", content=b"x" * 70_000, headers=json_type),
        await client.post("/v1/users/login", json={"email": "bob@example.com", "password": "no"}),
        await client.post("/v1/users/login", content=b"a=b", headers={"Content-Type": "text/x"}),
        await client.post("/v1/users/login", json={"email": "x" * 400, "password": PASSWORD}),
        await client.post("/v1/users/login", json={"email": 1, "password": None}),
        await client.get("/v1/users/me"),
        await client.get("/v1/users/me", headers=bearer("a.b.c")),
        await client.patch(
            "/v1/users/me",
            json={"email": "bob@example.com", "current_password": PASSWORD},
            headers=auth,
        ),
        await client.patch("/v1/users/me", json={"password": "x"}, headers=auth),
        await client.patch(
            "/v1/users/me", json={"password": "tiny", "current_password": PASSWORD}, headers=auth
        ),
        await client.patch(
            "/v1/users/me", json={"email": "ann@", "current_password": PASSWORD}, headers=auth
        ),
        await client.request(
            "DELETE", "/v1/users/me", json={"current_password": "x"}, headers=auth
        ),
        await client.get("/v1/users/", headers=auth),
        await client.get(f"/v1/users/{uuid.uuid4()}", headers=auth),
        await client.get("/v1/users/not-a-uuid", headers=auth),
        await client.get("/v1/nothing"),
        await client.delete("/healthz"),
    ]


async def test_no_error_response_leaks_internals(client: AsyncClient, user_token: str) -> None:
    responses = await _error_responses(client, user_token)

    statuses = [response.status_code for response in responses]
    assert all(400 <= status < 500 for status in statuses), statuses
    for response in responses:
        assert response.headers["content-type"].startswith("application/json")
        assert_clean_error(response)


async def test_admin_error_responses_leak_nothing(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await register(client, "ann@example.com")
    await register(client, "bob@example.com")
    auth = bearer(superuser_token)

    responses = [
        await client.patch(
            f"/v1/users/{ann['id']}", json={"email": "BOB@example.com"}, headers=auth
        ),
        await client.patch(
            f"/v1/users/{ann['id']}", json={"password": "ann@example.com!"}, headers=auth
        ),
        await client.patch(f"/v1/users/{ann['id']}", json={"nope": 1}, headers=auth),
        await client.patch(f"/v1/users/{uuid.uuid4()}", json={}, headers=auth),
        await client.get("/v1/users/", params={"limit": 1000}, headers=auth),
    ]

    assert [r.status_code for r in responses] == [400, 400, 422, 404, 422]
    for response in responses:
        assert_clean_error(response)


@pytest.mark.parametrize("field", ["email", "password"])
async def test_validation_errors_name_fields_without_the_body_prefix(
    client: AsyncClient, field: str
) -> None:
    body = {"email": "ann@example.com", "password": PASSWORD}
    del body[field]

    response = await client.post("/v1/users/", json=body)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [{"field": field, "message": errors[0]["message"]}]
    assert errors[0]["message"]


async def test_a_pattern_mismatch_is_explained_in_words_not_as_a_regex(
    client: AsyncClient, user_token: str
) -> None:
    sessions = await client.get("/v1/users/me/sessions", headers=bearer(user_token))
    session_id = sessions.json()[0]["id"]

    response = await client.patch(
        f"/v1/users/me/sessions/{session_id}",
        json={"name": "Office\u0007PC"},
        headers=bearer(user_token),
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "name"
    assert "pattern" not in error["message"] and "\\x" not in error["message"]
    assert error["message"] == "Contains characters that are not allowed here."


@pytest.mark.parametrize(("method", "url"), [("POST", "/v1/users/"), ("POST", "/v1/users/login")])
async def test_database_outage_is_a_retryable_503_without_details(method: str, url: str) -> None:
    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:1/x")

    async with crashing_app_client(settings) as client:
        response = await client.request(
            method, url, json={"email": "ann@example.com", "password": PASSWORD}
        )

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert_clean_error(response)
    assert "127.0.0.1" not in response.text
