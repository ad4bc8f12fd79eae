"""The account app's sections: own addresses, the profile card, one notice at a time,
and the activity list."""

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PASSWORD, LiveServer, log_in, unique_email

pytestmark = pytest.mark.e2e

SECTIONS = {
    "/profile": "Your profile",
    "/security": "Security",
    "/devices": "Devices",
    "/activity": "Activity",
}


async def test_each_section_has_its_own_address_and_keyboard_reachable_link(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login?next=%2Factivity")
    await log_in(page, email)
    await expect(page).to_have_url("/activity")  # a deep link survives the login
    await page.wait_for_load_state("networkidle")

    nav = page.get_by_role("navigation", name="Main")
    for path, heading in SECTIONS.items():
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        link = nav.get_by_role("link", name=heading.removeprefix("Your ").capitalize())
        await expect(link).to_have_attribute("aria-current", "page")
        await page.wait_for_load_state("networkidle")  # the section's own requests are done

    await page.goto("/profile")
    await nav.get_by_role("link", name="Security").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url("/security")
    await expect(page.get_by_role("heading", name="Security", level=1)).to_be_focused()
    await page.go_back()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")


async def test_a_verified_users_profile_shows_no_stray_null(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    user = await live_server.register(email)
    await page.goto(await live_server.mail_link(email, "verify-email"))
    await expect(page.get_by_role("main").get_by_text("is confirmed")).to_be_visible()
    await page.goto("/login")
    await log_in(page, email)

    details = page.locator(".details")
    await expect(details.locator("dd").nth(2)).to_have_text("Yes")
    await expect(details.locator("dd").last).to_have_text(user["id"])
    assert "null" not in await details.inner_text()


async def test_only_one_notice_shows_and_it_says_what_else_happened(
    page: Page, live_server: LiveServer
) -> None:
    email, new_email = unique_email(), unique_email("new")
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    main = page.get_by_role("main")
    notices = main.locator(".notice")

    section = page.get_by_role("region", name="Change email address")
    await section.get_by_label("New email address").fill(new_email)
    await section.get_by_label("Current password").fill(PASSWORD)
    await section.get_by_role("button", name="Change email").click()
    await expect(notices).to_have_count(1)
    await expect(notices).to_contain_text(f"Your email address is now {new_email}.")
    await expect(notices).to_contain_text("open it to confirm the address")
    await expect(notices).to_contain_text("Your other devices have been logged out.")
    assert await live_server.mail_link(new_email, "verify-email")

    await page.get_by_role("button", name="Send the confirmation link again").click()
    await expect(notices).to_have_text(f"We've sent a confirmation link to {new_email}.")
    await expect(notices).to_have_count(1)

    await page.get_by_role("link", name="Security").click()
    await expect(notices).to_have_count(0)  # a notice belongs to the page it was given on
    change = page.get_by_role("region", name="Change password")
    await change.get_by_label("New password").fill("a new and longer passphrase")
    await change.get_by_label("Current password").fill(PASSWORD)
    await change.get_by_role("button", name="Change password").click()
    await expect(notices).to_have_count(1)
    await expect(notices).to_contain_text("your other devices have been logged out")


async def test_activity_lists_the_accounts_events_newest_first(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        wrong = await client.post("/v1/users/login", json={"email": email, "password": "nope-nope"})
    assert wrong.status_code == 400
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("link", name="Activity").click()

    events = page.locator(".event-list > li")
    await expect(events.first).to_contain_text("Logged in")
    await expect(page.locator(".event--warning")).to_contain_text("Failed login attempt")
    await expect(events.last).to_contain_text("Account created")
