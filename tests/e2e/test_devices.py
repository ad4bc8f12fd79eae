"""Devices: telling sessions apart, naming them, and what a password change leaves."""

import re

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

CURL = "curl/8.4.0"


async def sign_in_elsewhere(server: LiveServer, email: str, user_agent: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as client:
        login = await client.post(
            "/v1/users/login",
            json={"email": email, "password": PASSWORD},
            headers={"User-Agent": user_agent},
        )
    assert login.status_code == 200, login.text
    token: str = login.json()["access_token"]
    return token


async def test_devices_show_how_and_when_they_signed_in_and_can_be_named(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await sign_in_elsewhere(live_server, email, CURL)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Devices").click()

    sessions = page.get_by_role("region", name="Where you're logged in")
    mine = sessions.get_by_role("listitem").filter(has_text="This browser")
    other = sessions.get_by_role("listitem").filter(has_not_text="This browser")
    await expect(other.locator(".session__device")).to_have_text("curl 8.4.0")
    for fact in ("Signed in", "with password", "Last active", "Address", "127.0.0.1"):
        await expect(mine).to_contain_text(fact)

    await mine.get_by_role("button", name="Name this device").click()
    name = mine.get_by_role("textbox", name="Name for")
    await expect(name).to_be_focused()
    await name.fill("  Work laptop  ")
    await mine.get_by_role("button", name="Save name").click()
    await expect(mine.locator(".session__device")).to_contain_text("Work laptop")
    await expect(mine).to_contain_text("Chrome")  # the device summary stays beside the name

    await page.reload()
    await expect(mine.locator(".session__device")).to_contain_text("Work laptop")
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        token = await sign_in_elsewhere(live_server, email, CURL)
        listed = await client.get(
            "/v1/users/me/sessions", headers={"Authorization": f"Bearer {token}"}
        )
    assert "Work laptop" in [session["name"] for session in listed.json()]

    await mine.get_by_role("button", name="Rename").click()
    await mine.get_by_role("textbox", name="Name for").fill("")
    await mine.get_by_role("button", name="Save name").click()
    await expect(mine.locator(".session__device")).not_to_contain_text("Work laptop")


async def test_a_password_change_leaves_only_this_device_in_the_list(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await sign_in_elsewhere(live_server, email, CURL)
    await page.goto("/login")
    await log_in(page, email)

    # The devices list is open in one tab while the password changes in another.
    devices_tab = await page.context.new_page()
    await devices_tab.goto("/devices")
    rows = devices_tab.get_by_role("region", name="Where you're logged in").get_by_role("listitem")
    await expect(rows).to_have_count(2)

    await page.get_by_role("link", name="Security").click()
    change = page.get_by_role("region", name="Change password")
    await change.get_by_label("New password").fill("a new and longer passphrase")
    await change.get_by_label("Current password").fill(PASSWORD)
    await change.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("main").locator(".notice")).to_contain_text("changed")

    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("This browser")
    await page.get_by_role("link", name="Devices").click()
    await expect(
        page.get_by_role("region", name="Where you're logged in").get_by_role("listitem")
    ).to_have_count(1)
    await devices_tab.close()


async def test_logging_out_a_device_that_already_ended_removes_its_row(
    page: Page, live_server: LiveServer, watch: PageWatch
) -> None:
    email = unique_email()
    await live_server.register(email)
    elsewhere = await sign_in_elsewhere(live_server, email, CURL)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Devices").click()
    rows = page.get_by_role("region", name="Where you're logged in").get_by_role("listitem")
    await expect(rows).to_have_count(2)
    async with httpx.AsyncClient(base_url=live_server.url) as client:  # it logs itself out
        ended = await client.post(
            "/v1/users/logout", headers={"Authorization": f"Bearer {elsewhere}"}
        )
        assert ended.status_code == 204

    watch.expect_http_error("DELETE", f"/v1/users/me/sessions/{await stale_id(rows)}", 404)
    await rows.filter(has_text="curl 8.4.0").get_by_role("button", name="Log out").click()

    await expect(page.get_by_role("main").locator(".notice")).to_contain_text("already ended")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("This browser")


async def stale_id(rows: Locator) -> str:
    session_id = await rows.filter(has_text="curl 8.4.0").get_attribute("data-session")
    assert session_id
    return session_id


async def test_a_name_of_invisible_characters_counts_as_no_name(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Devices").click()
    mine = page.get_by_role("region", name="Where you're logged in").get_by_role("listitem")
    await mine.get_by_role("button", name="Name this device").click()

    await mine.get_by_role("textbox", name="Name for").fill("\u200b\u200b")
    await mine.get_by_role("button", name="Save name").click()

    # The row keeps a title one can read: the device, not an empty line.
    await expect(mine.get_by_role("button", name="Name this device")).to_be_visible()
    await expect(mine.locator(".session__device")).to_contain_text("Chrome")


async def test_an_emoji_name_may_be_as_long_as_the_server_counts_it(
    page: Page, live_server: LiveServer, watch: PageWatch
) -> None:
    """64 characters as the server counts them (code points), not maxlength's UTF-16 units."""
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Devices").click()
    mine = page.get_by_role("region", name="Where you're logged in").get_by_role("listitem")
    renamed = f"/v1/users/me/sessions/{await mine.get_attribute('data-session')}"
    await mine.get_by_role("button", name="Name this device").click()
    name = mine.get_by_role("textbox", name="Name for")

    await name.fill("🦊" * 65)
    await mine.get_by_role("button", name="Save name").click()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_have_accessible_description(
        re.compile("A device name has at most 64 characters")
    )
    await expect(name).to_be_focused()
    assert watch.count("PATCH", renamed) == 0  # refused before a round trip

    fox = "🦊" * 40  # 40 characters, 80 UTF-16 units
    await name.fill(fox)
    await expect(name).to_have_value(fox)
    await mine.get_by_role("button", name="Save name").click()
    await expect(mine.locator(".session__device")).to_contain_text(fox)
    await expect(mine.get_by_role("button", name="Rename")).to_be_focused()
    assert watch.count("PATCH", renamed) == 1
