"""The browser flow: the refresh token lives in an HttpOnly, SameSite=Strict cookie."""

import pytest
from httpx import AsyncClient

from tests.conftest import PASSWORD, bearer, register

LOGIN = "/v1/users/login"
REFRESH = "/v1/users/refresh"
COOKIE_MODE = {"X-Refresh-Token-Delivery": "cookie"}


@pytest.fixture
async def browser(client_for: object) -> object:
    async with client_for() as client:  # type: ignore[operator]
        await register(client, "ann@example.com")
        yield client


async def cookie_login(client: AsyncClient) -> dict[str, str]:
    response = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD}, headers=COOKIE_MODE
    )
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def test_cookie_login_sets_an_httponly_strict_path_scoped_cookie_and_no_body_token(
    browser: AsyncClient,
) -> None:
    response = await browser.post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD}, headers=COOKIE_MODE
    )

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("refresh_token=")
    for attribute in ("httponly", "samesite=strict", "path=/v1/users", "max-age="):
        assert attribute in cookie
    assert "secure" not in cookie  # development; production sets Secure


async def test_cookie_refresh_rotates_the_cookie_and_never_puts_it_in_the_body(
    browser: AsyncClient,
) -> None:
    await cookie_login(browser)
    before = browser.cookies.get("refresh_token")

    response = await browser.post(REFRESH, headers=COOKIE_MODE)

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert browser.cookies.get("refresh_token") not in (None, before)
    me = await browser.get("/v1/users/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200


async def test_a_cookie_token_is_answered_with_a_cookie_even_without_asking(
    browser: AsyncClient,
) -> None:
    await cookie_login(browser)

    # Without the header the request is refused outright rather than answered in the body.
    response = await browser.post(REFRESH)

    assert response.status_code == 403
    assert response.json()["code"] == "CSRF_CHECK_FAILED"
    assert "refresh_token" not in response.text


async def test_cookie_refresh_from_another_origin_is_refused(browser: AsyncClient) -> None:
    await cookie_login(browser)

    response = await browser.post(
        REFRESH, headers={**COOKIE_MODE, "Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "CSRF_CHECK_FAILED"


async def test_cookie_login_from_another_origin_is_refused_before_the_password_is_checked(
    browser: AsyncClient,
) -> None:
    # Like refresh and logout: no answer from another origin sets the cookie (login CSRF).
    response = await browser.post(
        LOGIN,
        json={"email": "ann@example.com", "password": PASSWORD},
        headers={**COOKIE_MODE, "Origin": "https://evil.example"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "CSRF_CHECK_FAILED"
    assert "set-cookie" not in response.headers
    assert "refresh_token" not in response.text


async def test_cookie_refresh_from_the_same_origin_is_accepted(browser: AsyncClient) -> None:
    await cookie_login(browser)

    response = await browser.post(REFRESH, headers={**COOKIE_MODE, "Origin": "http://testserver"})

    assert response.status_code == 200


async def test_logout_clears_the_cookie_and_ends_the_session(browser: AsyncClient) -> None:
    tokens = await cookie_login(browser)

    response = await browser.post("/v1/users/logout", headers=COOKIE_MODE)

    assert response.status_code == 204
    assert (
        'refresh_token=""' in response.headers["set-cookie"]
        or "max-age=0" in response.headers["set-cookie"].lower()
    )
    me = await browser.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401


async def test_production_cookies_are_secure(client_for: object) -> None:
    production = client_for(app_env="production", bcrypt_rounds=10)  # type: ignore[operator]
    async with production as client:
        await register(client, "ann@example.com")
        response = await client.post(
            LOGIN, json={"email": "ann@example.com", "password": PASSWORD}, headers=COOKIE_MODE
        )

    assert "secure" in response.headers["set-cookie"].lower()


LOGOUT = "/v1/users/logout"
CROSS_SITE = {"Origin": "https://evil.example"}


async def test_a_cross_site_logout_without_the_header_leaves_the_cookie_alone(
    browser: AsyncClient,
) -> None:
    await cookie_login(browser)
    [cookie] = [cookie for cookie in browser.cookies.jar if cookie.name == "refresh_token"]
    browser.cookies.clear()  # SameSite=Strict: a cross-site form post carries no cookie

    response = await browser.post(LOGOUT, headers=CROSS_SITE)

    assert response.status_code == 204
    assert "set-cookie" not in response.headers
    browser.cookies.jar.set_cookie(cookie)
    assert (await browser.post(REFRESH, headers=COOKIE_MODE)).status_code == 200


async def test_a_cross_site_logout_with_the_cookie_is_refused_and_changes_nothing(
    browser: AsyncClient,
) -> None:
    tokens = await cookie_login(browser)

    without_header = await browser.post(LOGOUT, headers=CROSS_SITE)
    with_header = await browser.post(LOGOUT, headers={**COOKIE_MODE, **CROSS_SITE})

    for response in (without_header, with_header):
        assert response.status_code == 403
        assert response.json()["code"] == "CSRF_CHECK_FAILED"
        assert "set-cookie" not in response.headers
    me = await browser.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert (await browser.post(REFRESH, headers=COOKIE_MODE)).status_code == 200


async def test_bearer_and_body_token_logouts_stay_idempotent_and_never_touch_cookies(
    browser: AsyncClient,
) -> None:
    login = await browser.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
    tokens = login.json()

    answers = [
        await browser.post(LOGOUT, headers=bearer(tokens["access_token"])),
        await browser.post(LOGOUT, headers=bearer(tokens["access_token"])),
        await browser.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]}),
        await browser.post(LOGOUT, json={"refresh_token": "not-a-token"}),
        await browser.post(LOGOUT),
    ]

    assert [answer.status_code for answer in answers] == [204] * len(answers)
    assert all("set-cookie" not in answer.headers for answer in answers)
    assert (await browser.post(REFRESH, json=tokens)).status_code == 401
