"""QR sign-in against the real web process the Procfile starts (production settings)."""

from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD
from tests.live_server import ProcfileServer, procfile_server_for_module, unique_email
from tests.plugins.qr_login.flow import DESKTOP, USER_CODE, bearer, decide, error_of, poll, start

PUBLIC_URL = "https://auth.example.test"
server = procfile_server_for_module(PLUGINS="qr_login", PUBLIC_URL=PUBLIC_URL)


async def test_a_phone_signs_a_computer_in_by_qr(
    server: ProcfileServer, db_engine: AsyncEngine
) -> None:
    email = unique_email("qr")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        registered = await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
        assert registered.status_code == 201
        phone = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
        phone_token = phone.json()["access_token"]

        started = await start(client, client_name="Office PC")
        pending = await poll(client, started["device_code"])
        seen = await client.get(
            f"/v1/qr-login/requests/{started['user_code']}", headers=bearer(phone_token)
        )
        approved = await decide(client, phone_token, started["user_code"], "approve")
        signed_in = await poll(
            client, started["device_code"], **{"X-Refresh-Token-Delivery": "cookie"}
        )
        again = await poll(client, started["device_code"])
        me = await client.get("/v1/users/me", headers=bearer(signed_in.json()["access_token"]))
        plugins = await client.get("/v1/plugins")
        module = await client.get("/plugins/qr_login/index.js")

    assert USER_CODE.match(started["user_code"])
    assert started["verification_uri_complete"] == f"{PUBLIC_URL}/qr?code={started['user_code']}"
    assert error_of(pending) == "authorization_pending"
    assert seen.json()["client_name"] == "Office PC"
    assert seen.json()["user_agent"] == DESKTOP
    assert approved == 204
    assert signed_in.status_code == 200
    assert "refresh_token" not in signed_in.json()
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie  # production cookies
    assert error_of(again) == "invalid_grant"
    assert me.json()["email"] == email
    assert plugins.json()["plugins"][0]["module"] == "/plugins/qr_login/index.js"
    assert module.status_code == 200
    async with db_engine.connect() as connection:
        method = await connection.scalar(
            text(
                "SELECT s.method FROM sessions s JOIN users u ON u.id = s.user_id "
                "WHERE u.email = :email AND s.user_agent = :agent"
            ),
            {"email": email, "agent": DESKTOP},
        )
    assert method == "qr"


async def test_the_live_process_answers_bad_input_with_4xx_json(server: ProcfileServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answers = [
            await client.post(
                "/v1/qr-login/start", content=b"x", headers={"Content-Type": "text/plain"}
            ),
            await client.post("/v1/qr-login/token", json={"device_code": "nope"}),
            await client.get("/v1/qr-login/requests/BCDF-GHJK"),
            await client.post(
                "/v1/qr-login/token",
                content=b'{"device_code": "' + b"x" * 100_000 + b'"}',
                headers={"Content-Type": "application/json"},
            ),
        ]

    assert [a.status_code for a in answers] == [415, 400, 401, 413]
    assert all(a.json()["code"] for a in answers)


async def test_in_production_the_qr_points_at_public_url_whatever_the_host_header(
    server: ProcfileServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        started = await client.post("/v1/qr-login/start", headers={"Host": "evil.example"})

    assert started.status_code == 201
    assert started.json()["verification_uri"] == f"{PUBLIC_URL}/qr"
    assert "evil.example" not in started.text


async def test_a_standard_device_grant_client_can_start_and_poll_the_live_process(
    server: ProcfileServer,
) -> None:
    """RFC 8628 from discovery on: the device authorization endpoint takes the standard
    form (`client_id`), and the token endpoint answers the standard polls."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        document = (await client.get("/.well-known/openid-configuration")).json()
        started = await client.post(
            urlsplit(document["device_authorization_endpoint"]).path,
            data={"client_id": "tv-app", "scope": "profile"},
        )
        polled = await client.post(
            urlsplit(document["token_endpoint"]).path,
            data={
                "grant_type": document["grant_types_supported"][-1],
                "device_code": started.json().get("device_code", ""),
                "client_id": "tv-app",
            },
        )

    assert document["device_authorization_endpoint"] == f"{PUBLIC_URL}/v1/qr-login/start"
    assert started.status_code == 201, started.text
    assert started.json()["verification_uri_complete"].startswith(f"{PUBLIC_URL}/qr?code=")
    assert polled.json()["error"] == "authorization_pending"
