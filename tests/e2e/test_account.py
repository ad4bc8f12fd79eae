"""A person's own account: register, log in, profile, changes, log out, delete."""

import os
from typing import Literal

import pytest
from playwright.async_api import Page, expect

from app.core.config import PROJECT_ROOT
from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

# The README's pictures are refreshed with `make screenshots`; ordinary runs write them
# under tmp/ so a test run never changes tracked files (the profile shows an id and a date).
SCREENSHOTS = (
    PROJECT_ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else PROJECT_ROOT / "tmp" / "screenshots"
)
NEW_PASSWORD = "a new and longer passphrase"
# Every view at both sizes in both colour schemes for the README; a test run takes one set.
LOOKS = (
    [
        ("desktop", 1024, "light"),
        ("desktop", 1024, "dark"),
        ("phone", 375, "light"),
        ("phone", 375, "dark"),
    ]
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else [("desktop", 1024, "light")]
)


async def test_account_lifecycle_from_register_to_delete(page: Page, watch: PageWatch) -> None:
    email = "ada@example.com"  # fixed, so the README screenshots stay the same between runs
    await page.set_viewport_size({"width": 1024, "height": 760})

    await page.goto("/register")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await expect(page.get_by_role("main").get_by_text("Strength:")).to_be_visible()
    await page.get_by_role("button", name="Create account").click()

    await expect(page).to_have_url("/login")
    await expect(page.get_by_role("main").get_by_text("Your account is ready")).to_be_visible()
    await expect(page.get_by_label("Email address")).to_have_value(email)
    await log_in(page, email)

    await expect(page).to_have_url("/profile")
    details = page.locator(".details")
    await expect(details).to_contain_text(email)
    await expect(details).to_contain_text("Member")

    await page.get_by_role("link", name="Security").click()
    change = page.get_by_role("region", name="Change password")
    await change.get_by_label("New password").fill(NEW_PASSWORD)
    await change.get_by_label("Current password").fill(PASSWORD)
    await change.get_by_role("button", name="Change password").click()
    await expect(
        page.get_by_role("main").get_by_text("Your password has been changed")
    ).to_be_visible()

    await page.get_by_role("button", name="Log out").click()
    await expect(page).to_have_url("/login")
    await expect(page.get_by_role("main").get_by_text("You have logged out")).to_be_visible()

    await log_in(page, email, NEW_PASSWORD)
    await expect(page).to_have_url("/profile")

    await page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    await dialog.get_by_label("Current password").fill(NEW_PASSWORD)
    await dialog.get_by_role("button", name="Delete my account").click()
    await expect(page).to_have_url("/login")
    await expect(
        page.get_by_role("main").get_by_text("Your account has been deleted")
    ).to_be_visible()

    watch.expect_http_error("POST", "/v1/users/login", 400)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(
        page.get_by_role("main").get_by_text("The email address or password is wrong")
    ).to_be_visible()
    await expect(page).to_have_url("/login")


async def test_wrong_password_is_explained_next_to_the_password_field(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("POST", "/v1/users/login", 400)

    await page.goto("/login")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill("not the password")
    await page.get_by_role("button", name="Log in").click()

    password = page.get_by_label("Password", exact=True)
    await expect(password).to_be_focused()
    await expect(password).to_have_attribute("aria-invalid", "true")
    await expect(password).to_have_accessible_description(
        "Error: The email address or password is wrong, or the account has been deactivated."
    )
    await expect(page.get_by_role("button", name="Log in")).to_be_enabled()


async def test_register_checks_fields_in_the_browser_before_sending(
    page: Page, watch: PageWatch
) -> None:
    await page.goto("/register")
    submit = page.get_by_role("button", name="Create account")
    email = page.get_by_label("Email address")
    password = page.get_by_label("Password", exact=True)

    await submit.click()
    await expect(email).to_be_focused()
    await expect(page.get_by_role("main").get_by_text("Enter your email address.")).to_be_visible()
    await expect(page.get_by_role("main").get_by_text("Enter a password.")).to_be_visible()

    await email.fill("not-an-address")
    await password.fill("short")
    await submit.click()
    await expect(email).to_be_focused()
    await expect(
        page.get_by_role("main").get_by_text("Enter an email address like name@example.com.")
    ).to_be_visible()
    await expect(page.get_by_role("main").get_by_text("Use at least 8 characters.")).to_be_visible()

    # 36 × "é" is 72 bytes of UTF-8: the most bcrypt can use. One more is too long,
    # even though it is only 37 characters; the hint says so without counting bytes.
    await email.fill(unique_email())
    await password.fill("é" * 37)
    await expect(
        page.get_by_role("main").get_by_text("Too long: remove a few characters.")
    ).to_be_visible()
    await submit.click()
    await expect(password).to_be_focused()
    await expect(page.get_by_role("main").get_by_text("This password is too long.")).to_be_visible()
    assert watch.count("POST", "/v1/users/") == 0

    # 36 two-byte letters in no guessable order (36 × "é" would be refused as a repeat).
    await password.fill("".join(chr(0x430 + (i * 7) % 32) for i in range(36)))
    await expect(page.get_by_role("main").get_by_text("Strength: very strong.")).to_be_visible()
    await expect(page.get_by_role("main").get_by_text("bytes")).to_have_count(0)
    await submit.click()
    await expect(page).to_have_url("/login")
    assert watch.count("POST", "/v1/users/") == 1


async def test_register_shows_the_servers_answer_for_a_taken_email(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("POST", "/v1/users/", 400)

    await page.goto("/register")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()

    field = page.get_by_label("Email address")
    await expect(field).to_be_focused()
    await expect(field).to_have_accessible_description(
        "You'll use it to log in. Error: An account with this email address already exists."
        " Log in instead, or use another address."
    )


async def test_a_double_click_registers_once(page: Page, watch: PageWatch) -> None:
    await page.goto("/register")
    await page.get_by_label("Email address").fill(unique_email())
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").dblclick()

    await expect(page).to_have_url("/login")
    assert watch.count("POST", "/v1/users/") == 1


async def test_change_email_needs_the_right_current_password(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email, new_email = unique_email(), unique_email("renamed")
    await live_server.register(email)
    watch.expect_http_error("PATCH", "/v1/users/me", 400)
    await page.goto("/login")
    await log_in(page, email)

    section = page.get_by_role("region", name="Change email address")
    await section.get_by_label("New email address").fill(new_email)
    current = section.get_by_label("Current password")
    await current.fill("not the password")
    await section.get_by_role("button", name="Change email").click()
    await expect(current).to_be_focused()
    await expect(current).to_have_accessible_description("Error: That isn't your current password.")

    await current.fill(PASSWORD)
    await section.get_by_role("button", name="Change email").click()
    await expect(
        page.get_by_role("main").get_by_text(f"Your email address is now {new_email}.")
    ).to_be_visible()
    await expect(page.locator(".details")).to_contain_text(new_email)
    assert await live_server.login_status(new_email) == 200


@pytest.mark.parametrize(("device", "width", "scheme"), LOOKS)
async def test_screenshots_of_every_view(
    page: Page,
    live_server: LiveServer,
    device: str,
    width: int,
    scheme: Literal["light", "dark"],
) -> None:
    # Fixed addresses, so the pictures stay the same between runs.
    email, admin = f"ada.{device}.{scheme}@example.com", f"grace.{device}.{scheme}@example.com"
    await live_server.register(email)
    assert await live_server.login_status(email) == 200  # another device to list
    await live_server.create_superuser(admin)
    await page.set_viewport_size({"width": width, "height": 760})
    await page.emulate_media(color_scheme=scheme)
    main = page.get_by_role("main")

    async def shoot(view: str) -> None:
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=SCREENSHOTS / f"{view}-{device}-{scheme}.png", full_page=True)

    await page.goto("/login")
    await shoot("login")
    await page.goto("/register")
    await page.get_by_label("Email address").fill("new.person@example.com")
    await page.get_by_label("Password", exact=True).fill("lantern quietly orbits")
    await expect(main.get_by_text("Strength:")).to_be_visible()
    await shoot("register")
    await page.goto("/forgot-password")
    await shoot("forgot-password")

    await page.goto("/login")
    await log_in(page, email)
    await expect(page.locator(".details")).to_contain_text(email)
    await page.evaluate("() => document.activeElement.blur()")
    await shoot("profile")
    await page.get_by_role("link", name="Security").click()
    await page.get_by_label("New password").fill("password123")
    await expect(main.get_by_text("Strength: very weak.")).to_be_visible()
    await shoot("security")
    await page.get_by_role("link", name="Devices").click()
    await expect(main.get_by_role("listitem")).to_have_count(2)
    await shoot("devices")
    await page.get_by_role("link", name="Activity").click()
    await expect(main.locator(".event").first).to_be_visible()
    await shoot("activity")

    await page.get_by_role("button", name="Log out").click()
    await log_in(page, admin)
    # Let the signed-in page finish loading: navigating away mid-request aborts its /me.
    await expect(page.locator(".details")).to_contain_text(admin)
    await page.goto(f"/admin?email=.{device}.{scheme}%40")
    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=email))
    await card.get_by_text("Manage").click()
    await expect(card.get_by_role("button", name=f"Sessions {email}")).to_be_visible()
    await shoot("admin")
    nav = page.get_by_role("navigation", name="Main")
    for view, name in (("roles", "Roles"), ("service-keys", "Service keys")):
        await nav.get_by_role("link", name=name).click()
        await expect(main.get_by_role("heading", level=1)).to_have_text(name)
        await expect(main.locator("[aria-busy]")).to_have_count(0)  # loaded
        await page.evaluate("() => document.activeElement.blur()")
        await shoot(view)
