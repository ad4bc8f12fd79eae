"""The first visit: nothing fails in the console, no session probe without a session,
and the bytes over the wire stay within the budget."""

from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.conftest import (
    DESKTOP,
    PASSWORD,
    LiveServer,
    PageWatch,
    has_plugin_api,
    log_in,
    unique_email,
)

pytestmark = pytest.mark.e2e

# Issue 12: the first anonymous load of `/` (redirected to the login view), all files
# together, compressed, headers included.
FIRST_LOAD_BUDGET = 60 * 1024


def console_errors(page: Page) -> list[str]:
    """Every console error, the browser's own "Failed to load resource" ones included."""
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url', '')})")

    page.on("console", keep)
    return errors


def allowed(errors: list[str], server: LiveServer) -> list[str]:
    # Until the plugin API is on the server, the app's question about plugins gets 404.
    if has_plugin_api(server.url):
        return errors
    return [error for error in errors if "/v1/plugins" not in error]


async def test_an_anonymous_visit_asks_nothing_about_a_session_and_logs_no_error(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    errors = console_errors(page)
    await page.goto("/")
    await expect(page).to_have_url("/login")
    await page.wait_for_load_state("networkidle")
    await page.reload()
    await page.wait_for_load_state("networkidle")

    assert watch.count("POST", "/v1/users/refresh") == 0
    assert allowed(errors, live_server) == []


async def test_a_signed_in_load_logs_no_error(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    errors = console_errors(page)
    for path in ("/profile", "/security", "/devices", "/activity"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
    assert watch.count("POST", "/v1/users/refresh") == 4  # one per load, none failing
    assert allowed(errors, live_server) == []


async def test_after_deleting_the_account_a_load_asks_nothing_and_logs_no_error(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await log_in(page, email)
    await page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    await dialog.get_by_label("Current password").fill(PASSWORD)
    await dialog.get_by_role("button", name="Delete my account").click()
    await expect(page).to_have_url("/login")
    errors = console_errors(page)
    probes = watch.count("POST", "/v1/users/refresh")

    await page.reload()
    await page.wait_for_load_state("networkidle")

    assert watch.count("POST", "/v1/users/refresh") == probes
    assert allowed(errors, live_server) == []


async def test_the_first_anonymous_load_stays_within_the_budget(
    browser: Browser, live_server: LiveServer
) -> None:
    context = await browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    page = await context.new_page()
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, float] = {}
    urls: dict[str, str] = {}

    def sent(event: dict[str, Any]) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = event["encodedDataLength"]  # bytes on the wire

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    try:
        await page.goto("/")
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        await page.wait_for_load_state("networkidle")
        total = sum(sizes.values())
        report = "\n".join(
            f"{int(size):>7} {urls.get(request, '?')}" for request, size in sizes.items()
        )
        assert total <= FIRST_LOAD_BUDGET, f"{total} bytes:\n{report}"
        assert len(sizes) >= 5  # the page, its stylesheet and its modules were all counted
    finally:
        await context.close()
