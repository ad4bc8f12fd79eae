"""No input makes the service answer 5xx: every route against a battery of bad requests."""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register

# The routes as the code declares them right now, new ones included.
_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, operations in _SPEC["paths"].items()
    for method in operations
    if method in {"get", "post", "patch", "put", "delete"}
]

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BAD_BODIES: list[tuple[str, bytes | None]] = [
    (JSON, None),
    (JSON, b""),
    (JSON, b"{}"),
    (JSON, b"[]"),
    (JSON, b"null"),
    (JSON, b'"text"'),
    (JSON, b"1e999999"),
    (JSON, b"{"),
    (JSON, b"\xff\xfe\xfd"),
    (JSON, b"[" * 5000),
    (JSON, b'{"email": {"$ne": null}, "password": {"$gt": ""}}'),
    (
        JSON,
        b'{"email": "a@b.co", "password": "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000x"}',
    ),
    (JSON, b'{"email": "' + b"a" * 5000 + b'@example.com", "password": "x"}'),
    (JSON, b'{"current_password": 12, "refresh_token": [1], "token": {"a": 1}, "limit": -1}'),
    (JSON, b'{"email": "ann@example.com", "password": "' + b"p" * 20000 + b'"}'),
    (FORM, b"username=%ff%fe&password=%00"),
    (FORM, b"=&&=&username"),
    ("multipart/form-data", b"--x\r\nbroken"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n--x--"),
    ("text/plain", b"hello"),
    ("application/xml", b"<a/>"),
]
BAD_QUERIES = [
    {"limit": "1e9", "offset": "-5", "email": "%\x00_"},
    {"limit": "99999999999999999999999", "offset": "99999999999999999999999"},
    {"email": "x" * 5000},
]


def concrete(path: str) -> str:
    """Fill path parameters with ids that exist nowhere, and one that is not an id at all."""
    return (
        path.replace("{user_id}", str(uuid.uuid4()))
        .replace("{key_id}", str(uuid.uuid4()))
        .replace("{session_id}", "not-a-uuid")
        .replace("{name}", "no-such-role")
    )


@pytest.fixture
async def raw_client(client: AsyncClient, app: FastAPI) -> Any:
    # The session client is running the lifespan; this one shows a crash as the 500 a
    # real client would get instead of raising it into the test.
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as raw:
        yield raw


@pytest.fixture
async def tokens(client: AsyncClient, superuser_token: str) -> dict[str, dict[str, str]]:
    await register(client, "ann@example.com")
    return {
        "anonymous": {},
        "user": bearer(await login(client, "ann@example.com", PASSWORD)),
        "superuser": bearer(superuser_token),
    }


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_bad_requests_never_get_a_server_error(
    raw_client: AsyncClient, tokens: dict[str, dict[str, str]], method: str, path: str
) -> None:
    failures = []
    for who, auth in tokens.items():
        for content_type, body in BAD_BODIES:
            response = await raw_client.request(
                method,
                concrete(path),
                content=body,
                headers={**auth, "Content-Type": content_type},
            )
            if response.status_code >= 500:
                failures.append((who, content_type, (body or b"")[:40], response.status_code))
        for params in BAD_QUERIES:
            response = await raw_client.request(method, concrete(path), params=params, headers=auth)
            if response.status_code >= 500:
                failures.append((who, "query", str(params)[:40].encode(), response.status_code))

    assert failures == []
