"""Keyboard use, phone layout, labels and colour contrast (WCAG AA)."""

import asyncio
from pathlib import Path
from typing import Literal

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import PASSWORD, LiveServer, log_in, unique_email

pytestmark = pytest.mark.e2e

CONTRAST_CHECK = (Path(__file__).parent / "contrast.js").read_text()

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((control) => control.getClientRects().length > 0 && control.labels.length === 0)
  .map((control) => control.outerHTML)"""

HORIZONTAL_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


async def assert_accessible(page: Page) -> None:
    assert await page.evaluate(CONTRAST_CHECK) == []
    assert await page.evaluate(UNLABELLED_CONTROLS) == []


async def test_logging_in_and_out_works_with_the_keyboard_alone(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)

    async def slowly(route: Route) -> None:
        # The profile's GET /me answers after focus has moved on; updating the
        # page then must not take the focus away.
        await asyncio.sleep(0.5)
        await route.continue_()

    await page.route("**/v1/users/me", slowly)
    await page.goto("/login")

    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Email address")).to_be_focused()
    await page.keyboard.type(email)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password", exact=True)).to_be_focused()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")

    await expect(page).to_have_url("/profile")
    await expect(page.get_by_role("heading", name="Your profile")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("button", name="Log out")).to_be_focused()
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_role("button", name="Log out")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url("/login")
    await expect(page.get_by_role("heading", name="Log in")).to_be_focused()


async def test_the_delete_dialog_works_with_the_keyboard(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)

    opener = page.get_by_role("button", name="Delete account…")
    await opener.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete your account?")
    await expect(dialog.get_by_label("Current password")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(dialog.get_by_text("Enter your current password.")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(opener).to_be_focused()
    assert await live_server.login_status(email) == 200


async def test_focus_goes_to_the_first_field_with_an_error(page: Page) -> None:
    await page.goto("/register")
    email = page.get_by_label("Email address")
    await email.fill("ann@example.com")
    await page.get_by_role("button", name="Create account").click()

    password = page.get_by_label("Password", exact=True)
    await expect(password).to_be_focused()
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(email).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize(
    ("width", "scheme"), [(375, "light"), (1280, "light"), (375, "dark"), (1280, "dark")]
)
async def test_every_view_is_readable_and_fits_the_screen(
    page: Page, live_server: LiveServer, width: int, scheme: Literal["light", "dark"]
) -> None:
    await page.set_viewport_size({"width": width, "height": 800})
    await page.emulate_media(color_scheme=scheme)
    long_email = f"{'a-very-long-name.' * 3}{unique_email('x')}"
    await live_server.register(long_email)
    admin = unique_email("admin")
    await live_server.create_superuser(admin)

    await page.goto("/register")
    await page.get_by_role("button", name="Create account").click()  # shows the errors
    await page.get_by_label("Password", exact=True).fill("é" * 40)  # and the over-limit hint
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0
    await assert_accessible(page)

    await page.goto("/forgot-password")
    await page.get_by_role("button", name="Send the link").click()  # an error, too
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0
    await assert_accessible(page)

    await page.goto("/login")
    await log_in(page, long_email)
    await expect(page.locator(".details")).to_contain_text(long_email)
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0
    await assert_accessible(page)

    await page.get_by_role("button", name="Delete account…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete my account").click()
    await expect(
        page.get_by_role("dialog").get_by_text("Enter your current password.")
    ).to_be_visible()
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0
    await assert_accessible(page)
    await page.keyboard.press("Escape")

    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("main").get_by_text("You have logged out.")).to_be_visible()
    await assert_accessible(page)
    await log_in(page, admin)
    await page.get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name=long_email)).to_be_visible()
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0
    await assert_accessible(page)
