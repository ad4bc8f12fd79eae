"""Sessions in the browser: expiry, reloads, deep links and logging out."""

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Page, Request, expect

from tests.e2e.conftest import LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

# The API accepts tokens up to 5 s past their expiry (clock leeway).
TOKEN_LIFETIME_WITH_LEEWAY = 1 + 5


async def test_an_expired_session_goes_to_login_and_then_back(
    short_session_page: Page, watch: PageWatch, short_session_server: LiveServer
) -> None:
    page = short_session_page
    email = unique_email()
    await short_session_server.register(email)
    watch.expect_http_error("PATCH", "/v1/users/me", 401)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page).to_have_url("/profile")

    await asyncio.sleep(TOKEN_LIFETIME_WITH_LEEWAY + 1)
    section = page.get_by_role("region", name="Change email address")
    await section.get_by_label("New email address").fill(unique_email("new"))
    await section.get_by_label("Current password").fill("whatever it is")
    await section.get_by_role("button", name="Change email").click()

    await expect(page).to_have_url("/login?next=%2Fprofile")
    await expect(
        page.get_by_role("main").get_by_text("Your session has expired. Log in again to continue.")
    ).to_be_visible()
    await log_in(page, email)
    await expect(page).to_have_url("/profile")
    await expect(page.locator(".details")).to_contain_text(email)


async def test_a_reload_keeps_the_view(page: Page) -> None:
    await page.goto("/register")
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")

    await page.goto("/login")
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Log in")


async def test_a_reload_while_logged_in_asks_to_log_in_and_returns(
    page: Page, live_server: LiveServer
) -> None:
    # The token lives only in page memory, so a reload forgets it; logging in
    # again must bring the user back to the same view.
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await expect(page.locator(".details")).to_contain_text(email)
    await page.wait_for_load_state("networkidle")  # the profile's own GET /me is done

    await page.reload()
    await expect(page).to_have_url("/login?next=%2Fprofile")
    await expect(page.get_by_role("main").get_by_text("Log in to see this page.")).to_be_visible()
    await log_in(page, email)
    await expect(page).to_have_url("/profile")


async def test_a_deep_link_survives_the_detour_through_login(page: Page) -> None:
    await page.goto("/admin?email=ann&offset=20")
    await expect(page).to_have_url("/login?next=%2Fadmin%3Femail%3Dann%26offset%3D20")


async def test_unknown_pages_get_the_app_and_a_not_found_view(page: Page) -> None:
    response = await page.goto("/no/such/page")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    await page.get_by_role("link", name="Go to the start page").click()
    await expect(page).to_have_url("/login")


async def test_next_never_leads_off_the_site(page: Page, live_server: LiveServer) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login?next=//evil.example/steal")
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
    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url("/login")

    assert tokens
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        me = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {tokens[-1]}"})
    assert me.status_code == 401
