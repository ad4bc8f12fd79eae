from typing import Any

from tests.conftest import login, register
from tests.plugins import greeter


async def test_a_plugin_named_in_settings_adds_routes_and_hears_account_events(
    client_for: Any,
) -> None:
    greeter.seen.clear()
    async with client_for(plugins=["tests.plugins.greeter"]) as client:
        hello = await client.get("/v1/greeter/hello")
        await register(client, "ann@example.com")
        await login(client, "ann@example.com")

    assert hello.json() == {"hello": "world"}
    assert greeter.seen == [
        ("user_registered", "ann@example.com"),
        ("user_logged_in", "ann@example.com"),
    ]


async def test_without_the_setting_no_plugin_is_loaded(client: Any) -> None:
    response = await client.get("/v1/greeter/hello")

    assert response.status_code == 404
