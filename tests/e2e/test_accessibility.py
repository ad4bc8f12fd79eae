"""Keyboard use, phone layout, labels, colour contrast (WCAG AA) and axe-core's rules."""

import asyncio
from pathlib import Path
from typing import Literal

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

CONTRAST_CHECK = (Path(__file__).parent / "contrast.js").read_text()
# axe-core from npm, vendored (see vendor/README.md). Evaluated through the DevTools
# protocol, which the page's CSP doesn't govern, so the app keeps its real policy.
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
AXE_RUN = """async () => {
  const { violations } = await axe.run(document, { resultTypes: ["violations"] });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}"""

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((control) => control.getClientRects().length > 0 && control.labels.length === 0)
  .map((control) => control.outerHTML)"""

HORIZONTAL_OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


async def assert_accessible(page: Page) -> None:
    """No serious or critical axe violation, AA contrast, labelled fields, no sideways scroll."""
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE)
    assert await page.evaluate(AXE_RUN) == []
    assert await page.evaluate(CONTRAST_CHECK) == []
    assert await page.evaluate(UNLABELLED_CONTROLS) == []
    assert await page.evaluate(HORIZONTAL_OVERFLOW) <= 0


async def test_logging_in_and_out_works_with_the_keyboard_alone(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    # A GET /me held back below may reach the server after the logout: its 401 is
    # ignored by the app (the session was ended on purpose).
    watch.expect_http_error("GET", "/v1/users/me", 401)

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
async def test_every_view_is_accessible_and_fits_the_screen(
    page: Page, live_server: LiveServer, width: int, scheme: Literal["light", "dark"]
) -> None:
    await page.set_viewport_size({"width": width, "height": 800})
    await page.emulate_media(color_scheme=scheme)
    long_email = f"{'a-very-long-name.' * 3}{unique_email('x')}"
    await live_server.register(long_email)
    assert await live_server.login_status(long_email) == 200  # a second device to list
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    main = page.get_by_role("main")

    await page.goto("/register")
    await page.get_by_role("button", name="Create account").click()  # shows the errors
    await page.get_by_label("Password", exact=True).fill("é" * 40)  # and the over-limit hint
    await assert_accessible(page)
    await page.get_by_label("Password", exact=True).fill("password123")  # and the meter
    await expect(main.get_by_text("Strength: very weak.")).to_be_visible()
    await assert_accessible(page)

    await page.goto("/forgot-password")
    await page.get_by_role("button", name="Send the link").click()  # an error, too
    await assert_accessible(page)

    for path in ("/reset-password", "/verify-email", "/no/such/page"):
        await page.goto(path)
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await assert_accessible(page)

    await page.goto("/login")
    await assert_accessible(page)
    await log_in(page, long_email)
    await expect(page.locator(".details")).to_contain_text(long_email)
    await assert_accessible(page)

    await page.get_by_role("button", name="Delete account…").click()
    await page.get_by_role("dialog").get_by_role("button", name="Delete my account").click()
    await expect(
        page.get_by_role("dialog").get_by_text("Enter your current password.")
    ).to_be_visible()
    await assert_accessible(page)
    await page.keyboard.press("Escape")

    await page.get_by_role("link", name="Security").click()
    await page.get_by_label("New password").fill("password123")
    await expect(main.get_by_text("Strength: very weak.")).to_be_visible()
    await page.get_by_role("button", name="Change password").click()  # and an error
    await assert_accessible(page)

    await page.get_by_role("link", name="Devices").click()
    await expect(main.get_by_role("listitem")).to_have_count(2)
    await main.get_by_role("button", name="Name this device").first.click()
    await assert_accessible(page)

    await page.get_by_role("link", name="Activity").click()
    await expect(main.locator(".event").first).to_be_visible()
    await assert_accessible(page)

    await page.get_by_role("button", name="Log out").click()
    await expect(main.get_by_text("You have logged out.")).to_be_visible()
    await assert_accessible(page)
    await log_in(page, admin)
    await page.get_by_role("link", name="Roles").click()
    await main.get_by_role("button", name="Create role").click()  # an error first
    await expect(main.get_by_text("Enter a name for the role.")).to_be_visible()
    await assert_accessible(page)
    role = f"reviewer-{long_email[-20:-12]}"
    await main.get_by_label("Name").fill(role)
    await main.get_by_label("Description (optional)").fill("Reviews what editors write")
    await main.get_by_role("button", name="Create role").click()
    await expect(main.get_by_role("heading", name=role)).to_be_visible()
    await assert_accessible(page)
    await main.get_by_role("button", name=f"Delete… {role}").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await assert_accessible(page)
    await page.keyboard.press("Escape")

    await page.get_by_role("link", name="Service keys").click()
    await main.get_by_role("button", name="Create key").click()  # an error first
    await expect(main.locator("[aria-invalid=true]")).to_have_count(1)
    await assert_accessible(page)

    await page.get_by_role("link", name="Users").click()
    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=long_email))
    await card.get_by_text("Manage").click()
    await card.get_by_role("button", name=f"Sessions {long_email}").click()
    await expect(card.get_by_role("heading", name="Sessions (1)")).to_be_visible()
    await assert_accessible(page)
    await card.get_by_role("button", name=f"Roles {long_email}", exact=True).click()
    await card.get_by_label(role, exact=True).check()
    await assert_accessible(page)
    await card.get_by_role("button", name=f"Save roles {long_email}").click()
    await expect(card.locator(".badge--role")).to_have_text(f"Role: {role}")
    await assert_accessible(page)
