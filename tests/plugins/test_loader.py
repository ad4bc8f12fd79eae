"""PLUGINS at start-up: unknown names stop it; a plugin's frontend part is listed and served."""

import time
from typing import Any

import pytest
from httpx import AsyncClient

from app.main import create_app
from app.plugins.loader import PluginLoadError
from tests.api.test_middleware import assert_security_headers
from tests.conftest import make_settings
from tests.live_server import procfile_process
from tests.plugins.granting import ECHO_GRANT

QR_MODULE = "/plugins/qr_login/index.js"


@pytest.mark.parametrize("name", ["nope", "no.such.module", "tests.plugins.test_loader"])
def test_an_unknown_plugin_stops_start_up_with_a_clear_message(name: str) -> None:
    with pytest.raises(PluginLoadError, match=f"PLUGINS names '{name}'"):
        create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=[name]))


def test_a_plugin_named_twice_stops_start_up() -> None:
    with pytest.raises(PluginLoadError, match="twice"):
        create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=["qr_login"] * 2))


def test_the_web_process_with_an_unknown_plugin_exits_non_zero(
    migrated_database_url: str,
) -> None:
    with procfile_process(migrated_database_url, "unknown-plugin", PLUGINS="qr_login,nope") as (
        process,
        _,
        _,
        log_path,
    ):
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)

        assert process.returncode not in (None, 0)
        assert "PLUGINS names 'nope'" in log_path.read_text()


async def test_without_plugins_the_list_is_empty_and_cacheable(client: AsyncClient) -> None:
    response = await client.get("/v1/plugins")

    assert response.status_code == 200
    assert response.json() == {"plugins": []}
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_an_enabled_plugin_s_frontend_part_is_listed_and_served(client_for: Any) -> None:
    async with client_for(plugins=["qr_login"]) as client:
        listed = await client.get("/v1/plugins")
        module = await client.get(QR_MODULE)
        missing = await client.get("/plugins/qr_login/nothing.js", headers={"Accept": "text/html"})
        outside = await client.get("/plugins/qr_login/../../app/main.py")

    styles = ["/plugins/qr_login/qr_login.css"]
    assert listed.json() == {
        "plugins": [{"name": "qr_login", "module": QR_MODULE, "styles": styles}]
    }
    assert module.status_code == 200
    assert module.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert "export function register(host)" in module.text
    assert module.headers["cache-control"] == "no-cache"
    assert_security_headers(module)
    assert missing.status_code == 404
    assert missing.json()["code"] == "NOT_FOUND"
    assert outside.status_code == 404


async def test_a_disabled_plugin_s_files_are_not_served(client: AsyncClient) -> None:
    response = await client.get(QR_MODULE)

    assert response.status_code == 404


async def test_the_api_docs_list_the_enabled_plugins_error_codes(client_for: Any) -> None:
    async with client_for(plugins=["qr_login"]) as client:
        spec = (await client.get("/openapi.json")).json()

    codes = spec["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert {"LOGIN_BAD_CREDENTIALS", "QR_LOGIN_REQUEST_NOT_FOUND", "QR_LOGIN_SLOW_DOWN"} <= set(
        codes
    )
    token_errors = spec["paths"]["/v1/qr-login/token"]["post"]["responses"]["400"]
    examples = token_errors["content"]["application/json"]["examples"]
    assert set(examples) == {
        "authorization_pending",
        "slow_down",
        "access_denied",
        "expired_token",
        "invalid_grant",
        "unsupported_grant_type",
    }


@pytest.mark.parametrize(
    "plugins",
    [
        ["tests.plugins.granting:takes_password"],
        ["tests.plugins.granting", "tests.plugins.granting:takes_echo"],
    ],
)
def test_a_grant_type_served_already_stops_start_up(plugins: list[str]) -> None:
    with pytest.raises(PluginLoadError, match="already serves"):
        create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=plugins))


@pytest.mark.parametrize(
    "plugins",
    [
        ["tests.plugins.granting:publishes_token_endpoint"],
        ["qr_login", "tests.plugins.granting:publishes_device_authorization"],
    ],
)
def test_a_discovery_entry_published_already_stops_start_up(plugins: list[str]) -> None:
    with pytest.raises(PluginLoadError, match="already publishes"):
        create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=plugins))


async def test_a_plugin_s_grant_type_is_served_at_the_token_endpoint(client_for: Any) -> None:
    async with client_for(plugins=["tests.plugins.granting"]) as client:
        form = {"grant_type": ECHO_GRANT, "word": "hello", "client_id": "app", "scope": ""}

        served = await client.post("/v1/oauth/token", data=form, headers={"User-Agent": "t/1"})
        missing = await client.post("/v1/oauth/token", data={"grant_type": ECHO_GRANT})
        too_long = await client.post(
            "/v1/oauth/token", data={"grant_type": ECHO_GRANT, "word": "bonjour"}
        )

    assert served.status_code == 200, served.text
    assert served.json() == {
        "grant_type": ECHO_GRANT,
        "params": {"grant_type": ECHO_GRANT, "word": "hello", "client_id": "app"},
        "word": "hello",
        "user_agent": "t/1",
    }
    assert served.headers["cache-control"] == "no-store"
    for refused in (missing, too_long):
        assert refused.status_code == 400
        assert (refused.json()["error"], refused.json()["code"]) == (
            "invalid_request",
            "OAUTH_INVALID_REQUEST",
        )
