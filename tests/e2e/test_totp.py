"""Two-step sign-in in the browser: set it up from the Security page by reading the key off
the page, then log in with a code an authenticator app (pyotp) makes, or a recovery code;
an admin turns it off for a user."""

import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Literal
from urllib.parse import unquote

import httpx
import pyotp
import pytest
from playwright.async_api import Browser, Locator, Page, expect

from app.core.config import PROJECT_ROOT
from tests.e2e.conftest import (
    ARTIFACTS,
    PASSWORD,
    WATCH,
    LiveServer,
    log_in,
    open_page,
    run_server,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible

pytestmark = pytest.mark.e2e
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def totp_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "totp", PLUGINS="totp") as server:
        yield server


@pytest.fixture
async def totp_page(
    browser: Browser, totp_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    async for page in open_page(browser, totp_server.url, request):
        yield page


async def shoot(element: Locator, name: str) -> None:
    """README's picture with UPDATE_SCREENSHOTS=1 (make screenshots); else one in tmp/."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    await element.screenshot(path=folder / name)


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


async def clear_of_step_boundary(page: Page) -> None:
    left = 30 - time.time() % 30
    if left < 2:
        await page.wait_for_timeout((left + 0.05) * 1000)


# Phone and desktop, light and dark; the last is the pages' default look.
LOOKS: list[tuple[int, Literal["light", "dark"]]] = [
    (375, "light"),
    (375, "dark"),
    (1280, "dark"),
    (1280, "light"),
]


async def assert_accessible_in_every_look(page: Page) -> None:
    for width, scheme in LOOKS:
        await page.set_viewport_size({"width": width, "height": 800})
        await page.emulate_media(color_scheme=scheme)
        await assert_accessible(page)


async def set_up_two_step(page: Page) -> tuple[str, list[str]]:
    """From the Security page: the key read off the page, and the recovery codes shown."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Security").click()
    card = page.get_by_role("region", name="Two-step verification")
    await card.get_by_role("button", name="Set up two-step verification").click()
    await card.get_by_label("Current password").fill(PASSWORD)
    await card.get_by_role("button", name="Continue").click()
    await expect(card.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    typed_key = await card.locator(".totp-secret").inner_text()
    secret = typed_key.replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    await shoot(card, "two-step-setup.png")
    await assert_accessible_in_every_look(page)
    await clear_of_step_boundary(page)
    # The previous step's code (accepted: one step of drift), so the current one is unused.
    await card.get_by_label("Code from the app").fill(code(secret, -1))
    await card.get_by_role("button", name="Turn on").click()
    codes = card.locator("[data-recovery-codes] li")
    await expect(codes).to_have_count(10)
    recovery = [text.strip() for text in await codes.all_inner_texts()]
    await assert_accessible_in_every_look(page)
    await expect(card.get_by_role("button", name="Copy")).to_be_visible()
    await expect(card.get_by_role("link", name="Download")).to_have_attribute(
        "download", "recovery-codes.txt"
    )
    await card.get_by_role("button", name="I've saved them").click()
    await expect(card.locator('[data-totp-status="on"]')).to_be_visible()
    await expect(card).to_contain_text("10 recovery codes left.")
    return secret, recovery


async def signed_in_with_two_step(page: Page, server: LiveServer) -> tuple[str, str, list[str]]:
    """A new account signed in on `page`, two-step set up there: its email, the key, the
    recovery codes."""
    email = unique_email("totp")
    await server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    secret, recovery = await set_up_two_step(page)
    return email, secret, recovery


async def log_out(page: Page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    await page.wait_for_url(re.compile(r"/login"))


async def password_step(page: Page, email: str) -> None:
    await page.goto("/login")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Two-step verification")


async def expect_this_browser_signed_in_with(page: Page, method: str) -> None:
    """Devices names both steps in words, not the raw `password+totp` of the API."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
    row = page.locator(".session").filter(has_text="This browser")
    await expect(row).to_contain_text(f" with {method}")


async def test_set_up_by_reading_the_key_then_log_in_with_a_code(
    totp_page: Page, totp_server: LiveServer
) -> None:
    page = totp_page
    email, secret, _ = await signed_in_with_two_step(page, totp_server)
    await log_out(page)

    await password_step(page, email)
    field = page.get_by_label("6-digit code")
    await expect(field).to_have_attribute("inputmode", "numeric")
    await expect(field).to_have_attribute("autocomplete", "one-time-code")
    await expect(field).to_be_focused()
    await shoot(page.locator("main section").first, "two-step-login.png")
    await assert_accessible_in_every_look(page)
    await clear_of_step_boundary(page)
    current = code(secret)
    await field.fill(f"{current[:3]} {current[3:]}")  # pasted with a space, as apps show it
    await expect(field).to_have_value(current)
    await page.get_by_role("button", name="Verify").click()

    await page.wait_for_url(re.compile(r"/profile"))
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    # The refresh cookie came with the second step: a reload stays signed in.
    await page.wait_for_load_state("networkidle")
    await page.reload()
    await expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    await expect_this_browser_signed_in_with(page, "password and a code from an authenticator app")


async def test_a_wrong_code_is_explained_and_a_recovery_code_signs_in(
    totp_page: Page, totp_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    page = totp_page
    email, secret, recovery = await signed_in_with_two_step(page, totp_server)
    await log_out(page)

    await password_step(page, email)
    window = {code(secret, steps) for steps in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    request.node.stash[WATCH].expect_http_error("POST", "/v1/users/login/mfa", 401)
    await page.get_by_label("6-digit code").fill(wrong)
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_text("That code didn't work.")).to_be_visible()

    await page.get_by_role("button", name="Use a recovery code instead").click()
    await page.get_by_label("Recovery code").fill(recovery[0].upper())
    await page.get_by_role("button", name="Verify").click()
    await page.wait_for_url(re.compile(r"/profile"))
    await expect_this_browser_signed_in_with(page, "password and a recovery code")


async def test_new_recovery_codes_replace_the_shown_ones_then_turn_it_off(
    totp_page: Page, totp_server: LiveServer
) -> None:
    page = totp_page
    email, _, first_set = await signed_in_with_two_step(page, totp_server)
    card = page.get_by_role("region", name="Two-step verification")

    await card.get_by_role("button", name="New recovery codes").click()
    await card.get_by_label("Current password").fill(PASSWORD)
    await card.get_by_role("button", name="Make new codes").click()
    codes = card.locator("[data-recovery-codes] li")
    await expect(codes).to_have_count(10)
    second_set = [text.strip() for text in await codes.all_inner_texts()]
    assert not set(second_set) & set(first_set)
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await card.get_by_role("button", name="Copy").click()
    await expect(card.get_by_role("button", name="Copied")).to_be_visible()
    copied = await page.evaluate("navigator.clipboard.readText()")
    download = await card.get_by_role("link", name="Download").get_attribute("href") or ""
    assert copied.split() == second_set
    assert unquote(download.partition(",")[2]).split() == second_set
    await card.get_by_role("button", name="I've saved them").click()
    await expect(card).to_contain_text("10 recovery codes left.")
    async with httpx.AsyncClient(base_url=totp_server.url) as client:
        answers = []
        for recovery_code in (first_set[0], second_set[0]):
            held = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
            answers.append(
                await client.post(
                    "/v1/users/login/mfa",
                    json={"mfa_token": held.json()["mfa_token"], "recovery_code": recovery_code},
                )
            )
    assert [answer.status_code for answer in answers] == [401, 200]

    await card.get_by_role("button", name="Turn off").click()
    await card.get_by_label("Current password").fill(PASSWORD)
    await card.get_by_role("button", name="Turn off two-step verification").click()
    await expect(card.locator('[data-totp-status="off"]')).to_be_visible()
    async with httpx.AsyncClient(base_url=totp_server.url) as client:
        plain = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
    assert "access_token" in plain.json()


async def test_the_activity_page_names_two_step_events_in_plain_words(
    totp_page: Page, totp_server: LiveServer
) -> None:
    page = totp_page
    email, secret, _ = await signed_in_with_two_step(page, totp_server)
    window = {code(secret, steps) for steps in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    async with httpx.AsyncClient(base_url=totp_server.url) as client:
        held = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
        failed = await client.post(
            "/v1/users/login/mfa", json={"mfa_token": held.json()["mfa_token"], "code": wrong}
        )
    assert failed.status_code == 401

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    events = page.locator(".event-list .event")
    # Labelled by the plugin's module (host.addEventLabel), not shown as "mfa enabled".
    turned_on = events.filter(has_text="Two-step verification turned on")
    wrong_code = events.filter(has_text="Wrong two-step code entered")
    await expect(turned_on).to_have_count(1)
    await expect(turned_on).not_to_have_class(re.compile("event--warning"))
    await expect(wrong_code).to_have_class(re.compile("event--warning"))
    await expect(page.locator(".event-list")).not_to_contain_text("mfa")
    await assert_accessible(page)  # the highlighted plugin event too


async def enrol_through_the_api(server: LiveServer, email: str) -> list[str]:
    """A user with two-step on; returns their recovery codes."""
    async with httpx.AsyncClient(base_url=server.url) as client:
        await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
        login = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        enrolment = await client.post(
            "/v1/mfa/totp/enroll", json={"current_password": PASSWORD}, headers=auth
        )
        activated = await client.post(
            "/v1/mfa/totp/activate", json={"code": code(enrolment.json()["secret"])}, headers=auth
        )
        assert activated.status_code == 200, activated.text
    codes: list[str] = activated.json()["recovery_codes"]
    return codes


async def test_the_devices_words_for_two_step_sign_ins_come_from_the_plugin(
    totp_page: Page, totp_server: LiveServer, page: Page, live_server: LiveServer
) -> None:
    """Its module names the steps (host.addMethodLabel); the core server, on the same
    database but without the plugin, shows the same session's step by its raw name."""
    email = unique_email("totp")
    recovery = await enrol_through_the_api(totp_server, email)
    await password_step(totp_page, email)
    await totp_page.get_by_role("button", name="Use a recovery code instead").click()
    await totp_page.get_by_label("Recovery code").fill(recovery[0])
    await totp_page.get_by_role("button", name="Verify").click()
    await totp_page.wait_for_url(re.compile(r"/profile"))
    await expect_this_browser_signed_in_with(totp_page, "password and a recovery code")

    await page.goto("/login")
    await log_in(page, email)  # the core alone asks for no second step
    await page.get_by_role("link", name="Devices").click()
    two_step = page.locator(".session").filter(has_text="recovery code")
    await expect(two_step).to_have_count(1)
    await expect(two_step).to_contain_text(" with password and recovery code")
    await expect(two_step).not_to_contain_text("a recovery code")


async def test_an_admin_looks_a_user_up_and_turns_two_step_off(
    totp_page: Page, totp_server: LiveServer
) -> None:
    page = totp_page
    admin, user = unique_email("root"), unique_email("locked-out")
    await totp_server.create_superuser(admin)
    await enrol_through_the_api(totp_server, user)
    await page.goto("/login")
    await log_in(page, admin)

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    card = page.get_by_role("region", name="Two-step verification of a user")
    await card.get_by_label("User's email address").fill(user)
    await card.get_by_role("button", name="Look up").click()
    await expect(card.locator('[data-totp-admin-status="on"]')).to_contain_text(
        "10 recovery codes left"
    )
    page.once("dialog", lambda dialog: dialog.accept())
    await card.get_by_role("button", name="Turn off two-step verification").click()

    await expect(card.locator('[data-totp-admin-status="off"]')).to_be_visible()
    async with httpx.AsyncClient(base_url=totp_server.url) as client:
        plain = await client.post("/v1/users/login", json={"email": user, "password": PASSWORD})
    assert "access_token" in plain.json()  # the password alone signs in again
