"""Sessions in the browser: renewal, expiry, reloads, deep links and logging out."""

import asyncio
import re
from urllib.parse import quote

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

# The API accepts tokens up to 5 s past their expiry (clock leeway).
TOKEN_LIFETIME_WITH_LEEWAY = 1 + 5


async def test_an_expired_access_token_is_renewed_without_bothering_the_user(
    short_session_page: Page, watch: PageWatch, short_session_server: LiveServer
) -> None:
    page = short_session_page
    email, new_email = unique_email(), unique_email("new")
    await short_session_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await page.wait_for_load_state("networkidle")
    refreshes = watch.count("POST", "/v1/users/refresh")

    await asyncio.sleep(TOKEN_LIFETIME_WITH_LEEWAY + 1)
    section = page.get_by_role("region", name="Change email address")
    await section.get_by_label("New email address").fill(new_email)
    await section.get_by_label("Current password").fill(PASSWORD)
    await section.get_by_role("button", name="Change email").click()

    await expect(
        page.get_by_role("main").get_by_text(f"Your email address is now {new_email}.")
    ).to_be_visible()
    assert watch.count("POST", "/v1/users/refresh") > refreshes


async def test_a_session_that_really_ended_is_said_at_once_with_the_email_filled_in(
    short_session_page: Page, short_session_server: LiveServer
) -> None:
    page = short_session_page
    email = unique_email()
    await short_session_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page).to_have_url("/profile")
    await page.wait_for_load_state("networkidle")

    # The refresh cookie is gone (as when it outlived REFRESH_TOKEN_LIFETIME_SECONDS): the
    # page finds out when it renews the token, before the user tries anything.
    await page.context.clear_cookies()
    await expect(page).to_have_url(
        "/login?next=%2Fprofile", timeout=TOKEN_LIFETIME_WITH_LEEWAY * 1000
    )
    await expect(
        page.get_by_role("main").get_by_text("Your session has ended. Log in again to continue.")
    ).to_be_visible()
    await expect(page.get_by_label("Email address")).to_have_value(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url("/profile")
    await expect(page.locator(".details")).to_contain_text(email)


async def test_a_session_ended_from_another_device_goes_to_login(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("GET", "/v1/users/me", 401)
    # The hint cookie stays (the session ended elsewhere), so the refresh is tried and refused.
    watch.expect_http_error("POST", "/v1/users/refresh", 401)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page.locator(".details")).to_contain_text(email)
    await page.wait_for_load_state("networkidle")

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
        other = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.delete("/v1/users/me/sessions", headers=other)).status_code == 204

    await page.get_by_role("link", name="Profile").click()
    await expect(page).to_have_url("/login?next=%2Fprofile")
    await expect(
        page.get_by_role("main").get_by_text("Your session has ended. Log in again to continue.")
    ).to_be_visible()
    await log_in(page, email)
    await expect(page).to_have_url("/profile")


async def test_a_reload_keeps_the_view(page: Page) -> None:
    heading = page.get_by_role("heading", level=1)
    await page.goto("/register")
    await expect(heading).to_have_text("Create an account")
    await page.reload()
    await expect(heading).to_have_text("Create an account")

    await page.goto("/login")
    await expect(heading).to_have_text("Log in")
    await page.reload()
    await expect(heading).to_have_text("Log in")


async def test_a_reload_keeps_you_logged_in_without_storing_tokens_for_scripts(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page.locator(".details")).to_contain_text(email)
    await page.wait_for_load_state("networkidle")  # the profile's own GET /me is done

    await page.reload()
    await expect(page).to_have_url("/profile")
    await expect(page.locator(".details")).to_contain_text(email)

    assert await page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    # Scripts see only the hint that a session exists, never the refresh token.
    assert await page.evaluate("() => document.cookie") == "signed_in=1"
    cookies = {cookie["name"]: cookie for cookie in await page.context.cookies()}
    assert set(cookies) == {"refresh_token", "signed_in"}
    assert cookies["refresh_token"]["path"] == "/v1/users"
    assert cookies["refresh_token"]["httpOnly"] is True
    assert cookies["refresh_token"]["sameSite"] == "Strict"
    assert cookies["signed_in"]["httpOnly"] is False


async def test_a_deep_link_survives_the_detour_through_login(page: Page) -> None:
    await page.goto("/admin?email=ann&offset=20")
    await expect(page).to_have_url("/login?next=%2Fadmin%3Femail%3Dann%26offset%3D20")


async def test_unknown_pages_get_the_app_and_a_not_found_view(page: Page) -> None:
    response = await page.goto("/no/such/page")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await page.get_by_role("link", name="Go to the start page").click()
    await expect(page).to_have_url("/login")


@pytest.mark.parametrize(
    "target", ["//evil.example/steal", "/\\evil.example", "https://evil.example"]
)
async def test_next_never_leads_off_the_site(
    page: Page, live_server: LiveServer, target: str
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto(f"/login?next={quote(target)}")
    await log_in(page, email)
    await expect(page).to_have_url("/profile")


async def test_api_paths_never_fall_back_to_the_app(live_server: LiveServer) -> None:
    html = {"Accept": "text/html"}
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        api = await client.get("/v1/no-such-endpoint", headers=html)
        script = await client.get("/js/no-such-module.js")
        page = await client.get("/profile", headers=html)

    assert api.status_code == 404
    assert api.json()["code"] == "NOT_FOUND"
    assert script.status_code == 404
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"


async def test_logging_out_ends_the_session_on_the_server(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    tokens: list[str] = []

    def remember_token(request: Request) -> None:
        header = request.headers.get("authorization", "")
        if match := re.fullmatch(r"Bearer (\S+)", header):
            tokens.append(match[1])

    page.on("request", remember_token)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page.locator(".details")).to_contain_text(email)
    await page.wait_for_load_state("networkidle")
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url("/login")

    assert tokens
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        me = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens[-1]}"})
    assert me.status_code == 401
    assert await page.context.cookies() == []
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


async def test_other_devices_can_be_logged_out_from_the_devices_section(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
    phone = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"

    async def other_device(user_agent: str) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            login = await client.post(
                "/v1/users/login",
                json={"email": email, "password": PASSWORD},
                headers={"User-Agent": user_agent},
            )
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def still_works(headers: dict[str, str]) -> bool:
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            return (await client.get("/v1/users/me", headers=headers)).status_code == 200

    laptop = await other_device(firefox)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Devices").click()
    await expect(page).to_have_url("/devices")
    sessions = page.get_by_role("region", name="Where you're logged in")
    await expect(sessions.get_by_role("listitem")).to_have_count(2)
    devices = sessions.locator(".session__device")
    await expect(devices.filter(has_text="This browser")).to_contain_text("Chrome")

    await sessions.get_by_role("button", name=re.compile(r"^Log out Firefox")).click()
    await expect(sessions.get_by_role("listitem")).to_have_count(1)
    assert not await still_works(laptop)

    phones = [await other_device(phone), await other_device(phone)]
    await page.get_by_role("link", name="Profile").click()
    await page.get_by_role("link", name="Devices").click()
    await expect(devices.filter(has_text="Android")).to_have_count(2)
    await sessions.get_by_role("button", name="Log out everywhere else").click()
    await expect(sessions.get_by_role("listitem")).to_have_count(1)
    await expect(sessions.get_by_role("button", name="Log out everywhere else")).to_be_hidden()
    assert [await still_works(headers) for headers in phones] == [False, False]
    await expect(devices).to_contain_text("This browser")  # this browser stays in
