"""QR sign-in in the browser: the computer shows a QR code, a signed-in phone opens what the
*rendered* code says (decoded from a screenshot with zxing-cpp, as a phone's camera would),
approves or denies, and the computer signs in by itself, without a password typed."""

import io
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, Locator, Page, ViewportSize, expect

from app.core.config import PROJECT_ROOT
from tests.e2e.conftest import (
    WATCH,
    LiveServer,
    PageWatch,
    log_in,
    open_page,
    run_server,
    unique_email,
)
from tests.e2e.test_accessibility import assert_accessible

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
# Ordinary runs write the pictures under tmp/; `make screenshots` refreshes the README's.
SCREENSHOTS = (
    PROJECT_ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else PROJECT_ROOT / "tmp" / "screenshots"
)
TOKEN = "/v1/qr-login/token"


@pytest.fixture(scope="module")
def qr_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "qr-login", PLUGINS="qr_login") as server:
        yield server


# Not the default 120 s, so a page stating a fixed lifetime is caught.
TTL_SECONDS = 270


@pytest.fixture(scope="module")
def ttl_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(
        migrated_database_url,
        "qr-login-ttl",
        PLUGINS="qr_login",
        QR_LOGIN_TTL_SECONDS=str(TTL_SECONDS),
    ) as server:
        yield server


@dataclass
class Device:
    page: Page
    watch: PageWatch


async def open_device(
    browser: Browser, server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Device]:
    """A browser context of its own, watched like the `page` fixture's."""
    async for page in open_page(browser, server.url, request):
        yield Device(page, request.node.stash[WATCH])  # this page's watch, set just now


@pytest.fixture
async def desktop(
    browser: Browser, qr_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Device]:
    async for device in open_device(browser, qr_server, request):
        device.watch.expect_http_error("POST", TOKEN, 400)  # "not yet", while it polls
        yield device


@pytest.fixture
async def phone(
    browser: Browser, qr_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Device]:
    async for device in open_device(browser, qr_server, request):
        await device.page.set_viewport_size(PHONE)
        yield device


@pytest.fixture
async def ttl_desktop(
    browser: Browser, ttl_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Device]:
    async for device in open_device(browser, ttl_server, request):
        device.watch.expect_http_error("POST", TOKEN, 400)
        yield device


@pytest.fixture
async def ttl_phone(
    browser: Browser, ttl_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Device]:
    async for device in open_device(browser, ttl_server, request):
        await device.page.set_viewport_size(PHONE)
        yield device


async def show_qr(page: Page) -> str:
    """Open "Sign in with your phone" on the login page; the typed code it shows."""
    await page.goto("/login")
    await page.get_by_role("button", name="Sign in with your phone").click()
    await expect(page.get_by_role("img", name="QR code for signing in")).to_be_visible()
    return await page.locator(".qr-login__user-code").inner_text()


def another_code(page: Page, code: str) -> Locator:
    """The typed code once it is a new one (not merely gone while the next one loads)."""
    return page.locator(".qr-login__user-code").filter(has_not_text=code)


async def scan(page: Page) -> str:
    """What the QR code on the screen says, read from its pixels."""
    image = Image.open(io.BytesIO(await page.locator(".qr-login__code").screenshot()))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, "no QR code could be read from the screen"
    text: str = found[0].text
    return text


async def test_a_signed_in_phone_approves_and_the_computer_signs_in_by_itself(
    desktop: Device, phone: Device, qr_server: LiveServer
) -> None:
    email = unique_email("qr")
    await qr_server.register(email)
    computer = desktop.page

    code = await show_qr(computer)
    url = await scan(computer)
    assert url == f"{qr_server.url}/qr?code={code}"
    await expect(computer.get_by_text("This code expires in")).to_be_visible()

    # Not yet signed in on the phone: the approve page goes through the login and comes back.
    await phone.page.goto(url)
    await expect(phone.page).to_have_url(f"/login?next=%2Fqr%3Fcode%3D{code}")
    await log_in(phone.page, email)
    await expect(phone.page).to_have_url(f"/qr?code={code}")
    facts = phone.page.locator(".qr-approve__facts")
    await expect(facts).to_contain_text("Chrome on Linux")
    await expect(facts).to_contain_text("127.0.0.1")
    await expect(facts).to_contain_text(code)
    warning = phone.page.get_by_role("note")
    await expect(warning).to_contain_text("Only approve a sign-in you started yourself")
    await phone.page.get_by_role("button", name="Approve").click()
    await expect(phone.page.get_by_role("main")).to_contain_text(
        "Approved. The computer is now signed in"
    )

    await expect(computer).to_have_url("/profile")
    await expect(computer.get_by_role("main")).to_contain_text("your phone approved this sign-in")
    await expect(computer.locator(".details")).to_contain_text(email)
    assert desktop.watch.count("POST", "/v1/users/login") == 0  # no password was typed

    # The phone lists the computer's new session as a QR sign-in.
    await phone.page.get_by_role("link", name="See where you're signed in").click()
    rows = phone.page.get_by_role("main").get_by_role("listitem")
    await expect(rows).to_have_count(2)
    await expect(rows.filter(has_text="This browser")).not_to_contain_text("QR code")
    await expect(rows.filter(has_not_text="This browser")).to_contain_text("with QR code")

    # A real session: a reload keeps it (the refresh token came as the HttpOnly cookie).
    await computer.reload()
    await expect(computer.locator(".details")).to_contain_text(email)


async def test_a_denied_request_says_so_and_offers_a_new_code(
    desktop: Device, phone: Device, qr_server: LiveServer
) -> None:
    email = unique_email("qr-deny")
    await qr_server.register(email)
    await phone.page.goto("/login")
    await log_in(phone.page, email)

    code = await show_qr(desktop.page)
    # The typed fallback, as someone without a camera would (from Security): lower case, no dash.
    await phone.page.get_by_role("link", name="Security").click()
    card = phone.page.get_by_role("region", name="Sign in on another computer")
    await card.get_by_role("link", name="Enter a code").click()
    await expect(phone.page).to_have_url("/qr")
    await phone.page.get_by_label("Code shown on the computer").fill(code.replace("-", "").lower())
    await phone.page.get_by_role("button", name="Continue").click()
    await expect(phone.page).to_have_url(f"/qr?code={code}")
    await phone.page.get_by_role("button", name="Deny").click()
    await expect(phone.page.get_by_role("main")).to_contain_text(
        "Denied. The computer was not signed in."
    )

    await expect(desktop.page.locator(".qr-login").get_by_role("status")).to_contain_text(
        "denied on your phone"
    )
    await desktop.page.get_by_role("button", name="Show a new code").click()
    await expect(desktop.page.get_by_role("img", name="QR code for signing in")).to_be_visible()
    await expect(another_code(desktop.page, code)).to_be_visible()
    await expect(desktop.page).to_have_url("/login")


async def test_an_expired_code_is_replaced_by_a_fresh_one(
    desktop: Device, qr_server: LiveServer
) -> None:
    await desktop.page.clock.install()
    code = await show_qr(desktop.page)
    first = await scan(desktop.page)

    await desktop.page.clock.fast_forward("02:01")  # past the 120 s the server gave the code

    fresh = await another_code(desktop.page, code).inner_text()
    assert await scan(desktop.page) == f"{qr_server.url}/qr?code={fresh}" != first


async def test_closing_the_option_stops_the_polling(desktop: Device) -> None:
    def polls() -> int:
        return desktop.watch.count("POST", TOKEN)

    await show_qr(desktop.page)
    while polls() == 0:  # the first poll comes after `interval` (the test's timeout bounds this)
        await desktop.page.wait_for_timeout(100)
    await desktop.page.get_by_role("button", name="Sign in with your phone").click()
    await expect(desktop.page.locator(".qr-login__code")).to_have_count(0)
    polled = polls()
    await desktop.page.wait_for_timeout(4_500)  # two intervals and a bit
    assert polls() == polled


async def set_visibility(page: Page, state: Literal["hidden", "visible"]) -> None:
    """As switching to another tab and back would (headless Chromium has no other tab)."""
    await page.evaluate(
        """(state) => {
          Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


async def test_a_tab_in_the_background_stops_polling_and_starts_afresh_when_shown(
    desktop: Device,
) -> None:
    await desktop.page.clock.install()
    code = await show_qr(desktop.page)
    await set_visibility(desktop.page, "hidden")

    await desktop.page.clock.fast_forward("01:05")  # over the minute the page waits
    option = desktop.page.locator(".qr-login")
    await expect(option.get_by_role("status")).to_contain_text("Paused while this page")
    polled = desktop.watch.count("POST", TOKEN)
    await desktop.page.clock.fast_forward("00:10")
    assert desktop.watch.count("POST", TOKEN) == polled

    await set_visibility(desktop.page, "visible")
    await expect(another_code(desktop.page, code)).to_be_visible()


async def test_an_unknown_or_malformed_code_gets_a_clear_message(
    phone: Device, qr_server: LiveServer
) -> None:
    email = unique_email("qr-unknown")
    await qr_server.register(email)
    await phone.page.goto("/login")
    await log_in(phone.page, email)
    phone.watch.expect_http_error("GET", "/v1/qr-login/requests/BCDF-GHJK", 404)

    await phone.page.goto("/qr?code=bcdf-ghjk")
    await expect(phone.page.get_by_role("alert")).to_contain_text(
        "No sign-in is waiting for the code BCDF-GHJK"
    )
    await expect(phone.page.get_by_label("Code shown on the computer")).to_be_visible()

    await phone.page.goto("/qr?code=1234-5678")
    await expect(phone.page.get_by_role("main")).to_contain_text("This link's code isn't valid.")
    await phone.page.get_by_role("button", name="Continue").click()
    await expect(phone.page.get_by_label("Code shown on the computer")).to_have_attribute(
        "aria-invalid", "true"
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_both_views_are_accessible_and_pictured(
    desktop: Device, phone: Device, qr_server: LiveServer, scheme: Literal["light", "dark"]
) -> None:
    email = f"ada.qr.{scheme}@example.com"  # fixed, so the README's pictures stay the same
    await qr_server.register(email)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for device in (desktop, phone):
        await device.page.emulate_media(color_scheme=scheme)
    await phone.page.goto("/login")
    await log_in(phone.page, email)

    async def shoot(page: Page, view: str, size: str) -> None:
        await page.screenshot(path=SCREENSHOTS / f"{view}-{size}-{scheme}.png", full_page=True)

    async def approve_page(approver: Page, code: str, size: str) -> None:
        await approver.goto(f"/qr?code={code}")
        await expect(approver.get_by_role("button", name="Approve")).to_be_visible()
        await assert_accessible(approver)
        await shoot(approver, "qr-approve", size)

    # The computer shows the code; the phone is asked to approve.
    code = await show_qr(desktop.page)
    await assert_accessible(desktop.page)
    await shoot(desktop.page, "qr-login", "desktop")
    await approve_page(phone.page, code, "phone")

    # And the other way round, so each view is seen at both sizes.
    phone.watch.expect_http_error("POST", TOKEN, 400)
    await phone.page.get_by_role("button", name="Log out").click()
    await expect(phone.page.get_by_role("main").get_by_text("You have logged out.")).to_be_visible()
    code = await show_qr(phone.page)
    await assert_accessible(phone.page)
    await shoot(phone.page, "qr-login", "phone")
    await desktop.page.get_by_role("button", name="Sign in with your phone").click()  # closed
    await log_in(desktop.page, email)
    await approve_page(desktop.page, code, "desktop")


async def test_both_pages_state_the_lifetime_the_server_gave_the_code(
    ttl_desktop: Device, ttl_phone: Device, ttl_server: LiveServer
) -> None:
    email = unique_email("qr-ttl")
    await ttl_server.register(email)
    phone = ttl_phone.page
    await phone.goto("/login")
    await log_in(phone, email)
    await phone.clock.install()

    code = await show_qr(ttl_desktop.page)
    # 4:30 counting down (it may have ticked by the time it is read).
    await expect(ttl_desktop.page.locator(".qr-login__countdown")).to_contain_text(
        re.compile(r"expires in 4:[0-3]\d\.")
    )

    async with phone.expect_response(re.compile(r"/v1/qr-login/requests/")) as looked_up:
        await phone.goto(f"/qr?code={code}")
    expires_at = datetime.fromisoformat((await (await looked_up.value).json())["expires_at"])
    zone = await phone.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    at = expires_at.astimezone(ZoneInfo(zone)).strftime("%H:%M:%S")
    expires = phone.locator(".qr-approve__facts div").filter(has_text="Expires").locator("dd")
    await expect(expires).to_have_text(re.compile(rf"^{at}, in 4 minutes \d+ seconds?$"))

    await phone.clock.fast_forward("03:00")  # the phone's clock only: the request lives on
    await expect(expires).to_have_text(re.compile(rf"^{at}, in 1 minute( \d+ seconds?)?$"))
    await phone.clock.fast_forward("02:00")
    await expect(expires).to_have_text(f"{at} (expired)")
    # The phone's clock informs, the server decides: it still holds the request.
    await phone.get_by_role("button", name="Deny").click()
    await expect(phone.get_by_role("main")).to_contain_text("Denied.")
