"""RFC 8628's device code grant at the host's token endpoint, served by qr_login through
the plugin interface: the answers of POST /v1/qr-login/token, in OAuth 2.0's shape."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.v1.oauth.grants import grant_types_supported
from app.core.config import Settings
from app.main import create_app
from tests.api.v1.oauth.conftest import TOKEN_URL, oauth_error
from tests.conftest import login, register, running
from tests.oauth_client import AsyncOAuth2Client, OAuthError
from tests.plugins.qr_login.flow import DESKTOP, DEVICE_GRANT, bearer, decide, start
from tests.plugins.qr_login.test_routes import expire


@pytest.fixture(scope="module")
def qr_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"plugins": ["qr_login"]}))


@pytest.fixture(scope="module")
async def qr(qr_app: FastAPI, db_engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    async with running(qr_app) as client:
        yield client


@pytest.fixture
async def phone(qr: AsyncClient, db_engine: AsyncEngine) -> str:
    """The approver's access token (signed in on their phone)."""
    await register(qr, "ann@example.com")
    return await login(qr, "ann@example.com")


async def grant(client: AsyncClient, device_code: str, **extra: str) -> Response:
    return await client.post(
        TOKEN_URL,
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, **extra},
        headers={"User-Agent": DESKTOP},
    )


async def test_a_client_library_polls_until_approved_then_signs_in(
    qr_app: FastAPI, qr: AsyncClient, phone: str
) -> None:
    started = await start(qr)
    async with AsyncOAuth2Client(
        client_id="tv-app",
        transport=ASGITransport(app=qr_app),
        base_url="http://testserver",
        headers={"User-Agent": DESKTOP},
    ) as device:
        with pytest.raises(OAuthError) as pending:
            await device.fetch_token(
                TOKEN_URL, grant_type=DEVICE_GRANT, device_code=started["device_code"]
            )
        assert await decide(qr, phone, started["user_code"], "approve") == 204

        token = await device.fetch_token(
            TOKEN_URL, grant_type=DEVICE_GRANT, device_code=started["device_code"]
        )
        me = await device.get("/v1/users/me")

    assert pending.value.error == "authorization_pending"
    assert token["refresh_token"] and me.json()["email"] == "ann@example.com"
    listed = (await qr.get("/v1/users/me/sessions", headers=bearer(phone))).json()
    assert [s["method"] for s in listed if s["user_agent"] == DESKTOP] == ["qr"]


async def test_the_tokens_are_handed_out_once(qr: AsyncClient, phone: str) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    first = await grant(qr, started["device_code"], client_id="tv-app")
    second = await grant(qr, started["device_code"])
    legacy = await qr.post("/v1/qr-login/token", json={"device_code": started["device_code"]})

    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["pragma"] == "no-cache"
    assert set(first.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}
    body = oauth_error(second)
    assert (body["error"], body["code"]) == ("invalid_grant", "QR_LOGIN_INVALID_GRANT")
    assert legacy.json()["error"] == "invalid_grant"  # one request, whichever endpoint


async def test_pending_then_too_fast_then_denied(qr: AsyncClient, phone: str) -> None:
    started = await start(qr)

    pending = oauth_error(await grant(qr, started["device_code"]))
    too_fast = oauth_error(await grant(qr, started["device_code"]))
    await decide(qr, phone, started["user_code"], "deny")
    denied = oauth_error(await grant(qr, started["device_code"]))

    assert (pending["error"], pending["code"]) == (
        "authorization_pending",
        "QR_LOGIN_AUTHORIZATION_PENDING",
    )
    assert too_fast["error"] == "slow_down"
    assert denied["error"] == "access_denied"


async def test_an_expired_request_is_expired_token(qr: AsyncClient, db_engine: AsyncEngine) -> None:
    started = await start(qr)
    await expire(db_engine)

    assert oauth_error(await grant(qr, started["device_code"]))["error"] == "expired_token"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"device_code": "not-a-device-code"}, "invalid_grant"),
        ({}, "invalid_request"),
        ({"device_code": ""}, "invalid_request"),
        ({"device_code": "x" * 257}, "invalid_request"),
        ({"device_code": "x", "client_secret": "s3cret"}, "invalid_client"),
    ],
)
async def test_bad_device_codes_get_the_rfc_errors(
    qr: AsyncClient, db_engine: AsyncEngine, form: dict[str, Any], error: str
) -> None:
    response = await qr.post(TOKEN_URL, data={"grant_type": DEVICE_GRANT, **form})

    assert oauth_error(response, 401 if error == "invalid_client" else 400)["error"] == error


async def test_polls_are_limited_as_the_plugins_own_endpoint(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QR_LOGIN_RATE_LIMIT_POLLS", "2/minute")
    async with client_for(plugins=["qr_login"], rate_limits_enabled=True) as client:
        started = await start(client)

        await grant(client, started["device_code"])
        await client.post("/v1/qr-login/token", json={"device_code": started["device_code"]})
        limited = await grant(client, started["device_code"])

        body = oauth_error(limited, 429)
        assert (body["error"], body["code"]) == ("temporarily_unavailable", "TOO_MANY_REQUESTS")
        assert int(limited.headers["retry-after"]) > 0


async def test_without_the_plugin_the_grant_type_is_unsupported(
    client: AsyncClient,
) -> None:
    response = await client.post(TOKEN_URL, data={"grant_type": DEVICE_GRANT, "device_code": "x"})

    assert oauth_error(response)["error"] == "unsupported_grant_type"


def test_the_served_grant_types_follow_the_enabled_plugins(qr_app: FastAPI, app: FastAPI) -> None:
    assert grant_types_supported(qr_app) == ["password", "refresh_token", DEVICE_GRANT]
    assert grant_types_supported(app) == ["password", "refresh_token"]


async def test_a_standard_client_finds_the_device_authorization_endpoint_and_starts_there(
    qr: AsyncClient, client: AsyncClient, phone: str
) -> None:
    """RFC 8628 §4: the discovery document names where a device grant starts; a client that
    knows only the standard reads it there, posts its form, then polls the token endpoint."""
    document = (await qr.get("/.well-known/openid-configuration")).json()
    without_plugin = (await client.get("/.well-known/openid-configuration")).json()
    base = document["token_endpoint"].removesuffix("/v1/oauth/token")

    assert document["device_authorization_endpoint"] == f"{base}/v1/qr-login/start"
    assert "device_authorization_endpoint" not in without_plugin
    started = await qr.post(
        document["device_authorization_endpoint"].removeprefix(base),
        data={"client_id": "tv-app"},
        headers={"User-Agent": DESKTOP},
    )
    assert started.status_code == 201, started.text
    device_code = started.json()["device_code"]
    assert oauth_error(await grant(qr, device_code))["error"] == "authorization_pending"
    assert await decide(qr, phone, started.json()["user_code"], "approve") == 204
    assert (await grant(qr, device_code)).status_code == 200
