"""The `signed_in=1` hint: the page reads it to skip the refresh probe when nobody is
signed in, so it must be set and cleared exactly with the refresh cookie."""

from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.conftest import PASSWORD, register

LOGIN = "/v1/users/login"
REFRESH = "/v1/users/refresh"
LOGOUT = "/v1/users/logout"
COOKIE_MODE = {"X-Refresh-Token-Delivery": "cookie"}


@pytest.fixture
async def browser(client_for: Callable[..., Any]) -> AsyncIterator[AsyncClient]:
    async with client_for() as client:
        await register(client, "ann@example.com")
        yield client


def set_cookies(response: Response) -> dict[str, dict[str, str]]:
    """Each Set-Cookie by name, with its attributes (lowercased names, `httponly` as a key)."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            attributes = {key: str(value) for key, value in morsel.items() if value}
            found[name] = {"value": morsel.value, **attributes}
    return found


async def cookie_login(client: AsyncClient) -> Response:
    response = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD}, headers=COOKIE_MODE
    )
    assert response.status_code == 200, response.text
    return response


def assert_cleared(response: Response) -> None:
    cookies = set_cookies(response)
    for name in ("refresh_token", "signed_in"):
        assert cookies[name]["max-age"] == "0", cookies


async def test_cookie_login_sets_a_readable_hint_beside_the_refresh_cookie(
    browser: AsyncClient,
) -> None:
    cookies = set_cookies(await cookie_login(browser))

    hint, refresh = cookies["signed_in"], cookies["refresh_token"]
    assert hint["value"] == "1"
    assert "httponly" not in hint and "httponly" in refresh
    # On / so the page's document.cookie sees it; the refresh cookie stays on /v1/users.
    assert (hint["path"], refresh["path"]) == ("/", "/v1/users")
    assert hint["samesite"] == refresh["samesite"] == "strict"
    assert hint["max-age"] == refresh["max-age"] != "0"
    assert "secure" not in hint  # development; production below


async def test_body_login_sets_no_cookie_at_all(browser: AsyncClient) -> None:
    response = await browser.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})

    assert response.headers.get_list("set-cookie") == []


async def test_refresh_renews_the_hint_with_the_cookie(browser: AsyncClient) -> None:
    await cookie_login(browser)

    response = await browser.post(REFRESH, headers=COOKIE_MODE)

    assert response.status_code == 200
    assert set(set_cookies(response)) == {"refresh_token", "signed_in"}
    assert set_cookies(response)["signed_in"]["value"] == "1"


async def test_logout_clears_the_hint(browser: AsyncClient) -> None:
    await cookie_login(browser)

    response = await browser.post(LOGOUT, headers=COOKIE_MODE)

    assert response.status_code == 204
    assert_cleared(response)
    assert "signed_in" not in browser.cookies


async def test_a_failed_refresh_clears_the_hint(browser: AsyncClient) -> None:
    await cookie_login(browser)
    browser.cookies.set("refresh_token", "not-a-token", path="/v1/users")

    response = await browser.post(REFRESH, headers=COOKIE_MODE)

    assert response.status_code == 401
    assert_cleared(response)


async def test_a_stale_hint_without_a_refresh_cookie_is_cleared_by_the_probe(
    browser: AsyncClient,
) -> None:
    browser.cookies.set("signed_in", "1", path="/")

    response = await browser.post(REFRESH, headers=COOKIE_MODE)

    assert response.status_code == 401
    assert response.json()["code"] == "REFRESH_TOKEN_INVALID"
    assert_cleared(response)


async def test_reuse_detection_clears_the_hint(client_for: Callable[..., Any]) -> None:
    async with client_for(refresh_reuse_grace_seconds=0) as client:
        await register(client, "ann@example.com")
        await cookie_login(client)
        stolen = client.cookies.get("refresh_token")
        await client.post(REFRESH, headers=COOKIE_MODE)  # rotates it
        client.cookies.set("refresh_token", stolen or "", path="/v1/users")

        response = await client.post(REFRESH, headers=COOKIE_MODE)

    assert response.status_code == 401
    assert "used twice" in response.json()["message"]
    assert_cleared(response)


async def test_production_hint_is_secure(client_for: Callable[..., Any]) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as client:
        await register(client, "ann@example.com")
        response = await cookie_login(client)

    assert "secure" in set_cookies(response)["signed_in"]


async def test_deleting_the_account_from_the_browser_clears_the_hint(browser: AsyncClient) -> None:
    """Else the next page load would probe with a dead cookie and log a 401."""
    token = (await cookie_login(browser)).json()["access_token"]

    response = await browser.request(
        "DELETE",
        "/v1/users/me",
        json={"current_password": PASSWORD},
        headers={**COOKIE_MODE, "Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 204
    assert_cleared(response)
    assert "signed_in" not in browser.cookies


async def test_a_refused_deletion_keeps_the_hint(browser: AsyncClient) -> None:
    token = (await cookie_login(browser)).json()["access_token"]

    response = await browser.request(
        "DELETE",
        "/v1/users/me",
        json={"current_password": "not the password"},
        headers={**COOKIE_MODE, "Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert response.headers.get_list("set-cookie") == []
    assert browser.cookies.get("signed_in") == "1"


async def test_a_cross_site_deletion_asking_for_cookies_is_refused_and_deletes_nothing(
    browser: AsyncClient,
) -> None:
    token = (await cookie_login(browser)).json()["access_token"]

    response = await browser.request(
        "DELETE",
        "/v1/users/me",
        json={"current_password": PASSWORD},
        headers={
            **COOKIE_MODE,
            "Authorization": f"Bearer {token}",
            "Origin": "https://evil.example",
        },
    )

    assert response.status_code == 403
    assert response.json()["code"] == "CSRF_CHECK_FAILED"
    assert (
        await browser.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200
