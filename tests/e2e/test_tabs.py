"""Two tabs of one browser stay in step when the account logs in or out in either."""

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import LiveServer, PageWatch, log_in, unique_email, watch_page

pytestmark = pytest.mark.e2e


async def test_logging_out_and_in_in_one_tab_shows_in_the_other(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    other = await page.context.new_page()
    watch_page(other, watch)
    await other.goto("/security")
    await expect(other.get_by_role("heading", name="Security")).to_be_visible()

    await page.get_by_role("button", name="Log out").click()
    await expect(other).to_have_url("/login?next=%2Fsecurity")
    await expect(
        other.get_by_role("main").get_by_text("You logged out in another tab.")
    ).to_be_visible()
    await expect(other.get_by_label("Email address")).to_have_value(email)

    # Typing in a form of a page that doesn't need the account survives a login elsewhere.
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        asked = await client.post("/v1/users/forgot-password", json={"email": email})
        assert asked.status_code == 202
    await other.goto(await live_server.mail_link(email, "reset-password"))
    typed = other.get_by_role("textbox", name="New password")
    await typed.fill("half of a new passphrase")
    await page.get_by_label("Email address").fill(email)
    await log_in(page, email)
    await expect(
        other.get_by_role("navigation").get_by_role("button", name="Log out")
    ).to_be_visible()
    await expect(other).to_have_url("/reset-password")
    await expect(typed).to_have_value("half of a new passphrase")

    # A tab on the login form follows the login to where it was going.
    await page.get_by_role("button", name="Log out").click()
    await expect(other.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    await other.goto("/login?next=%2Fdevices")
    await log_in(page, email)
    await expect(other).to_have_url("/devices")
    await expect(other.get_by_role("main").get_by_text("This browser")).to_be_visible()
    await other.close()
