"""One JSON access line per request, with the request id the response carries."""

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.request_log import REQUEST_ID_HEADER
from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, register, running
from tests.observability.conftest import CapturedLogs

NEW_PASSWORD = "another horse battery staple"


async def test_each_request_logs_one_json_line_with_route_user_and_request_id(
    client: AsyncClient, logs: CapturedLogs
) -> None:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    response = await client.get("/v1/users/me", headers=bearer(token))

    assert response.status_code == 200
    line = logs.access_line(response.headers[REQUEST_ID_HEADER])
    assert line["method"] == "GET"
    assert line["path"] == "/v1/users/me"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "info"
    assert line["user_id"] == user["id"]
    sessions = await client.get("/v1/users/me/sessions", headers=bearer(token))
    assert line["session_id"] in {session["id"] for session in sessions.json()}


async def test_the_path_logged_is_the_route_template_not_the_raw_path(
    client: AsyncClient, superuser_token: str, logs: CapturedLogs
) -> None:
    user = await register(client, "bob@example.com")

    response = await client.get(f"/v1/users/{user['id']}", headers=bearer(superuser_token))

    assert response.status_code == 200
    line = logs.access_line(response.headers[REQUEST_ID_HEADER])
    assert line["path"] == "/v1/users/{user_id:uuid}"
    assert user["id"] not in str(line)


@pytest.mark.parametrize(
    ("path", "accept", "template"),
    [
        ("/", "text/html", "/{path:path}"),
        ("/profile", "text/html", "/{path:path}"),  # a page of the browser app
        ("/js/api.js", "*/*", "/{path:path}"),
        ("/plugins/qr_login/index.js", "*/*", "/plugins/qr_login"),
        ("/v1/nothing-here", "*/*", "unmatched"),
    ],
)
async def test_the_frontend_and_plugin_files_are_logged_under_their_route(
    json_settings: Settings,
    db_engine: AsyncEngine,
    logs: CapturedLogs,
    path: str,
    accept: str,
    template: str,
) -> None:
    """Not as `unmatched`, which is kept for paths nothing serves (a scanner's 404s)."""
    app = create_app(json_settings.model_copy(update={"plugins": ["qr_login"]}))
    async with running(app) as client:
        response = await client.get(path, headers={"Accept": accept})

    assert response.status_code == (404 if template == "unmatched" else 200)
    assert logs.access_line(response.headers[REQUEST_ID_HEADER])["path"] == template


async def test_an_anonymous_request_names_no_user(client: AsyncClient, logs: CapturedLogs) -> None:
    response = await client.get("/v1/users/me")

    line = logs.access_line(response.headers[REQUEST_ID_HEADER])
    assert line["status"] == 401
    assert "user_id" not in line and "session_id" not in line


async def test_a_well_formed_request_id_is_echoed_and_logged(
    client: AsyncClient, logs: CapturedLogs
) -> None:
    for supplied in ("req-42.retry_1", str(uuid.uuid4()), "x" * 64):
        response = await client.get("/healthz", headers={REQUEST_ID_HEADER: supplied})

        assert response.headers[REQUEST_ID_HEADER] == supplied
        assert logs.access_line(supplied)["path"] == "/healthz"


async def test_a_malformed_request_id_is_replaced_by_a_new_one(
    client: AsyncClient, logs: CapturedLogs
) -> None:
    for supplied in ("has space", "x" * 65, "semi;colon", "<script>"):
        response = await client.get("/healthz", headers={REQUEST_ID_HEADER: supplied})

        echoed = response.headers[REQUEST_ID_HEADER]
        assert echoed != supplied
        assert len(echoed) == 32 and int(echoed, 16) >= 0
        assert supplied not in logs.text()
        assert logs.access_line(echoed)["status"] == 200


async def test_without_a_request_id_each_request_gets_its_own(client: AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")

    assert first.headers[REQUEST_ID_HEADER] != second.headers[REQUEST_ID_HEADER]


async def test_the_caps_answers_carry_the_request_id_and_are_logged(
    client: AsyncClient, logs: CapturedLogs
) -> None:
    too_large = await client.post(
        "/v1/users/login",
        content=b"x" * (1024 * 1024),
        headers={"Content-Type": "application/json", REQUEST_ID_HEADER: "cap-413"},
    )
    too_many = await client.get(
        "/healthz",
        headers={REQUEST_ID_HEADER: "cap-431", **{f"X-Extra-{n}": "1" for n in range(200)}},
    )

    assert (too_large.status_code, too_large.headers[REQUEST_ID_HEADER]) == (413, "cap-413")
    assert (too_many.status_code, too_many.headers[REQUEST_ID_HEADER]) == (431, "cap-431")
    assert logs.access_line("cap-413")["status"] == 413
    assert logs.access_line("cap-431")["status"] == 431


async def test_an_unexpected_error_answers_500_with_the_request_id_in_the_log(
    json_settings: Settings, db_engine: AsyncEngine, logs: CapturedLogs
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app = create_app(json_settings)
    app.add_api_route("/v1/test-explode", explode, methods=["POST"])
    async with LifespanManager(app) as manager:
        # The app's own 500, not the exception, reaches the client (as under uvicorn).
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post("/v1/test-explode", headers={REQUEST_ID_HEADER: "err-1"})

    assert response.status_code == 500
    assert response.headers[REQUEST_ID_HEADER] == "err-1"
    assert logs.access_line("err-1")["status"] == 500
    failure = [line for line in logs.lines() if line.get("level") == "error"]
    assert failure and all(line["request_id"] == "err-1" for line in failure), logs.text()
    assert "RuntimeError: boom" in failure[0]["exception"]


async def test_no_password_token_or_full_email_reaches_the_log(
    client_for: Callable[..., Any], logs: CapturedLogs
) -> None:
    # In production: in development, mail without SMTP_HOST goes to the log on purpose.
    async with client_for(app_env="production", bcrypt_rounds=10, log_format="json") as client:
        secrets = await _sign_up_in_refresh_and_change_password(client)

    text = logs.text()
    assert text.count('"event": "request"') >= 5
    for secret in secrets:
        assert secret not in text, secret
    assert "c***@example.com" in text  # the mail recipient, masked


async def _sign_up_in_refresh_and_change_password(client: AsyncClient) -> list[str]:
    """Every flow that handles a secret; returns the secrets it sent and received."""
    email = "carol.secretive@example.com"
    await register(client, email)
    logged_in = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
    wrong = await client.post("/v1/users/login", json={"email": email, "password": "wrong pw"})
    tokens = logged_in.json()
    refreshed = await client.post(
        "/v1/users/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    changed = await client.patch(
        "/v1/users/me",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(refreshed.json()["access_token"]),
    )

    assert [r.status_code for r in (logged_in, wrong, refreshed, changed)] == [200, 400, 200, 200]
    return [
        PASSWORD,
        NEW_PASSWORD,
        "wrong pw",
        email,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
    ]
