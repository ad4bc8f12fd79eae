"""No input makes QR sign-in answer 5xx: its routes against the core's battery of bad
requests (tests/api/test_no_server_errors.py), and its documented statuses."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.main import create_app
from tests.api.test_no_server_errors import BAD_BODIES, BAD_QUERIES
from tests.conftest import bearer, login, register, running

CODES = ["bcdf-ghjk", "%00", "x" * 3000]


@pytest.fixture(scope="module")
async def qr_app(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"plugins": ["qr_login"]}))
    async with running(app):
        yield app


def operations(app: Any) -> list[tuple[str, str]]:
    return [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/v1/qr-login/")
        for method in ops
    ]


async def test_bad_requests_never_get_a_server_error(qr_app: Any, db_engine: AsyncEngine) -> None:
    transport = ASGITransport(app=qr_app, raise_app_exceptions=False)
    failures = []
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        await register(client, "ann@example.com")
        who = {"anonymous": {}, "user": bearer(await login(client, "ann@example.com"))}
        for method, path in operations(qr_app):
            for code in CODES:
                url = path.replace("{user_code}", code)
                for auth in who.values():
                    for content_type, body in BAD_BODIES:
                        headers = {**auth, "Content-Type": content_type}
                        answer = await client.request(method, url, content=body, headers=headers)
                        if answer.status_code >= 500:
                            failures.append((method, url[:40], content_type, answer.status_code))
                    for params in BAD_QUERIES:
                        answer = await client.request(method, url, params=params, headers=auth)
                        if answer.status_code >= 500:
                            failures.append((method, url[:40], "query", answer.status_code))

    assert failures == []


async def test_every_route_documents_its_statuses(qr_app: Any) -> None:
    spec = qr_app.openapi()

    for method, path in operations(qr_app):
        operation = spec["paths"][path][method.lower()]
        statuses = set(operation["responses"])
        assert operation["description"], path
        assert "503" in statuses, path  # they use the database
        if "requestBody" in operation:
            assert {"413", "415", "422"} <= statuses, path
        if operation.get("security"):
            assert {"401", "404", "429"} <= statuses, path
