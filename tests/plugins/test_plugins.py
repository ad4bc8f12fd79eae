from typing import Any

from tests.conftest import login, register
from tests.plugins import greeter


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
