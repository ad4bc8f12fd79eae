from typing import Any

import jwt

from tests.conftest import login, register
from tests.plugins import greeter
from tests.plugins.qr_login.flow import bearer, decide, poll, start


async def test_a_plugin_named_in_settings_adds_routes_and_hears_account_events(
    client_for: Any,
) -> None:
    greeter.seen.clear()
    async with client_for(plugins=["tests.plugins.greeter"]) as client:
        hello = await client.get("/v1/greeter/hello")
        user = await register(client, "ann@example.com")
        await login(client, "ann@example.com")

    assert hello.json() == {"hello": "world"}
    assert [(kind, str(user_id)) for kind, user_id in greeter.seen] == [
        ("registered", user["id"]),
        ("login_succeeded", user["id"]),
    ]


async def test_a_plugin_hears_every_event_after_commit(client_for: Any) -> None:
    greeter.seen_after_commit.clear()
    async with client_for(plugins=["tests.plugins.greeter"]) as client:
        await register(client, "ann@example.com")
        await login(client, "ann@example.com")
        wrong = await client.post(
            "/v1/users/login", json={"email": "ann@example.com", "password": "wrong password"}
        )

    assert wrong.status_code == 400
    assert greeter.seen_after_commit == [
        "registered",
        "session_started",
        "login_succeeded",
        "login_failed",
    ]


async def test_without_the_setting_no_plugin_is_loaded(client: Any) -> None:
    response = await client.get("/v1/greeter/hello")

    assert response.status_code == 404


async def test_a_plugin_hears_how_each_session_started(client_for: Any) -> None:
    """`session_started` names the method: a password login, a QR sign-in (another plugin's)."""
    greeter.started.clear()
    async with client_for(plugins=["tests.plugins.greeter", "qr_login"]) as client:
        await register(client, "ann@example.com")
        phone = await login(client, "ann@example.com")
        started = await start(client)
        await decide(client, phone, started["user_code"], "approve")
        computer = (await poll(client, started["device_code"])).json()["access_token"]
        me = await client.get("/v1/users/me", headers=bearer(computer))

    assert me.status_code == 200
    session_of = [
        str(jwt.decode(t, options={"verify_signature": False})["sid"]) for t in (phone, computer)
    ]
    assert [(method, str(sid)) for method, sid in greeter.started] == [
        ("password", session_of[0]),
        ("qr", session_of[1]),
    ]
