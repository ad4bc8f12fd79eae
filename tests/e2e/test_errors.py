"""Every error the API can give is a plain sentence, shown next to the field it concerns."""

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from app.core.errors import ErrorCode
from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e

DESCRIBE = """async ([code, message]) => {
  const { describeError } = await import("/js/errors.js");
  return describeError({ code, message, status: 400, fieldErrors: [], retryAfter: null })[0];
}"""

FIELDS = {
    ErrorCode.REGISTER_USER_ALREADY_EXISTS: "email",
    ErrorCode.REGISTER_INVALID_PASSWORD: "password",
    ErrorCode.LOGIN_BAD_CREDENTIALS: "password",
    ErrorCode.CURRENT_PASSWORD_REQUIRED: "current_password",
    ErrorCode.CURRENT_PASSWORD_INVALID: "current_password",
    ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS: "email",
    ErrorCode.UPDATE_USER_INVALID_PASSWORD: "password",
    ErrorCode.RESET_PASSWORD_INVALID_PASSWORD: "password",
    ErrorCode.SERVICE_KEY_NAME_TAKEN: "name",
    ErrorCode.ROLE_ALREADY_EXISTS: "name",
}


async def test_every_api_error_code_has_a_sentence_and_a_place(page: Page) -> None:
    await page.goto("/login")
    known = await page.evaluate("async () => (await import('/js/errors.js')).KNOWN_CODES")
    assert set(ErrorCode) - set(known) == set()

    for code in ErrorCode:
        described = await page.evaluate(DESCRIBE, [code.value, "Server detail."])
        assert described["text"].endswith("."), code
        assert code.value not in described["text"]
        assert described["field"] == FIELDS.get(code), code


async def test_the_servers_reason_for_refusing_a_password_is_shown(page: Page) -> None:
    await page.goto("/login")
    described = await page.evaluate(
        DESCRIBE, ["REGISTER_INVALID_PASSWORD", "Password should not contain the email."]
    )
    assert described == {
        "field": "password",
        "text": "This password can't be used. Password should not contain the email.",
    }


async def test_an_address_only_the_server_refuses_is_explained_at_the_email_field(
    page: Page, watch: PageWatch
) -> None:
    watch.expect_http_error("POST", "/v1/users/", 422)
    await page.goto("/register")
    await page.get_by_label("Email address").fill("ann@example.test")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()

    email = page.get_by_label("Email address")
    await expect(email).to_be_focused()
    await expect(email).to_have_attribute("aria-invalid", "true")
    description = await email.get_attribute("aria-describedby")
    assert description
    error = page.locator(f"#{description.split()[-1]}")
    await expect(error).to_contain_text("This email address can't be used.")
    await expect(error).to_contain_text("special-use or reserved")


async def test_a_common_password_only_the_server_refuses_is_explained_at_the_password_field(
    page: Page, watch: PageWatch
) -> None:
    watch.expect_http_error("POST", "/v1/users/", 400)
    await page.goto("/register")
    await page.get_by_label("Email address").fill(unique_email())
    await page.get_by_label("Password", exact=True).fill("baseball1")
    await page.get_by_role("button", name="Create account").click()

    password = page.get_by_label("Password", exact=True)
    await expect(password).to_be_focused()
    await expect(password).to_have_attribute("aria-invalid", "true")
    description = await password.get_attribute("aria-describedby")
    assert description
    error = page.locator(f"#{description.split()[-1]}")
    await expect(error).to_contain_text("This password can't be used.")
    await expect(error).to_contain_text("most common")


async def test_too_many_login_attempts_say_how_long_to_wait(
    strict_limits_page: Page, watch: PageWatch, strict_limits_server: LiveServer
) -> None:
    page = strict_limits_page
    email = unique_email()
    await strict_limits_server.register(email)
    watch.expect_http_error("POST", "/v1/users/login", 400)
    watch.expect_http_error("POST", "/v1/users/login", 429)

    await page.goto("/login")
    await page.get_by_label("Email address").fill(email)
    password = page.get_by_label("Password", exact=True)
    button = page.get_by_role("button", name="Log in")
    for _ in range(2):
        await password.fill("wrong password")
        await button.click()
        await expect(password).to_have_attribute("aria-invalid", "true")

    await password.fill(PASSWORD)
    await button.click()
    alert = page.get_by_role("main").get_by_role("alert")
    await expect(alert).to_have_text(
        # The wait comes from the Retry-After header.
        re.compile(r"Too many attempts\. Wait \d+ seconds? and try again\.")
    )
    await expect(alert).to_be_focused()


async def test_a_network_failure_is_explained_and_the_form_can_be_sent_again(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_network_failure("POST", "/v1/users/login")
    await page.route("**/v1/users/login", lambda route: route.abort("internetdisconnected"))

    await page.goto("/login")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("main").get_by_role("alert")).to_have_text(
        "The server can't be reached. Check your connection and try again."
    )

    await page.unroute("**/v1/users/login")
    await log_in(page, email)
    await expect(page).to_have_url("/profile")


async def test_changing_to_a_taken_email_is_explained_at_the_email_field(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email, taken = unique_email(), unique_email("taken")
    await live_server.register(email)
    await live_server.register(taken)
    watch.expect_http_error("PATCH", "/v1/users/me", 400)
    await page.goto("/login")
    await log_in(page, email)

    section = page.get_by_role("region", name="Change email address")
    new_email = section.get_by_label("New email address")
    await new_email.fill(taken)
    await section.get_by_label("Current password").fill(PASSWORD)
    await section.get_by_role("button", name="Change email").click()

    await expect(new_email).to_be_focused()
    await expect(new_email).to_have_accessible_description(
        "Error: Another account already uses this email address."
    )


async def test_acting_on_a_user_deleted_meanwhile_is_explained(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    admin, gone = unique_email("admin"), unique_email("gone")
    await live_server.create_superuser(admin)
    user = await live_server.register(gone)
    watch.expect_http_error("PATCH", f"/v1/users/{user['id']}", 404)
    await page.goto(f"/login?next=/admin%3Femail%3D{gone}")
    await log_in(page, admin)
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=gone))
    await expect(card).to_be_visible()

    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login = await client.post("/v1/users/login", json={"email": admin, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert (await client.delete(f"/v1/users/{user['id']}", headers=headers)).status_code == 204

    await card.get_by_text("Manage").click()
    await card.get_by_role("button", name=f"Deactivate {gone}").click()
    await expect(page.locator(".notice-slot .notice")).to_have_text(
        "This user doesn't exist any more."
    )
    await expect(page.locator(".results-summary")).to_have_text(f"No users matching “{gone}”.")
