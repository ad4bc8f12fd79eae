"""The pages emailed links open: choosing a new password and confirming an address."""

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "a brand new passphrase"


async def test_a_forgotten_password_is_replaced_through_the_emailed_link(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page).to_have_url("/forgot-password")

    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(
        page.get_by_role("main").get_by_text(f"If an account uses {email}")
    ).to_be_visible()

    link = await live_server.mail_link(email, "reset-password")
    await page.goto(link)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    await expect(page).to_have_url("/reset-password")  # the token is gone from the address bar
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Save the new password").click()

    await expect(page).to_have_url("/login")
    await expect(
        page.get_by_role("main").get_by_text("Your password has been changed")
    ).to_be_visible()
    await log_in(page, email, NEW_PASSWORD)
    await expect(page).to_have_url("/profile")
    await page.wait_for_load_state("networkidle")  # let the profile load before leaving

    watch.expect_http_error("POST", "/v1/users/reset-password", 400)
    await page.goto(link)
    await page.get_by_label("New password", exact=True).fill("yet another passphrase")
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        "This password reset link is wrong or has expired. Ask for a new one."
    )


async def test_the_confirmation_link_confirms_the_address(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    details = page.locator(".details")
    await expect(details).to_contain_text("Not yet")

    await page.get_by_role("button", name="Send the confirmation link again").click()
    await expect(
        page.get_by_role("main").get_by_text(f"We've sent a confirmation link to {email}.")
    ).to_be_visible()
    link = await live_server.mail_link(email, "verify-email", after=1)
    await page.wait_for_load_state("networkidle")

    await page.goto(link)
    await expect(
        page.get_by_role("main").get_by_text(f"Thank you: {email} is confirmed.")
    ).to_be_visible()
    await expect(page).to_have_url("/verify-email")
    await page.get_by_role("link", name="Go to your profile").click()
    await expect(details.locator("dd").nth(2)).to_have_text("Yes")
    await expect(page.get_by_role("button", name="Send the confirmation link again")).to_have_count(
        0
    )


async def test_broken_links_are_explained(page: Page, watch: PageWatch) -> None:
    watch.expect_http_error("POST", "/v1/users/verify", 400)
    main = page.get_by_role("main")

    await page.goto("/reset-password")
    await expect(main.get_by_text("This password reset link is incomplete.")).to_be_visible()
    await expect(main.get_by_role("link", name="Ask for a new link")).to_be_visible()

    await page.goto("/verify-email#token=not-a-real-token")
    await expect(main.get_by_role("alert")).to_have_text(
        "This verification link is wrong or has expired. Ask for a new one."
    )
