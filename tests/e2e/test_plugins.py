"""The browser side of the plugin hook (README, "Writing a plugin" → "Frontend part"),
with a tiny fixture plugin. The browser answers `GET /v1/plugins` and the plugin's files
itself, as the server would for an enabled plugin with a static folder."""

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import LiveServer, log_in, unique_email

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
PLUGINS = {
    "plugins": [
        {
            "name": "demo",
            "module": "/plugins/demo/index.js",
            "styles": ["/plugins/demo/demo.css"],
        },
        {"name": "broken", "module": "/plugins/broken/index.js", "styles": []},
    ]
}
FILES = {
    "/plugins/demo/index.js": (FIXTURES / "demo_plugin" / "index.js", "text/javascript"),
    "/plugins/demo/demo.css": (FIXTURES / "demo_plugin" / "demo.css", "text/css"),
    "/plugins/broken/index.js": (FIXTURES / "broken_plugin.js", "text/javascript"),
}


async def serve_plugins(page: Page) -> None:
    async def plugin_list(route: Route) -> None:
        await route.fulfill(content_type="application/json", body=json.dumps(PLUGINS))

    async def plugin_file(route: Route) -> None:
        path, content_type = FILES[urlsplit(route.request.url).path]
        await route.fulfill(content_type=content_type, body=path.read_text())

    await page.route("**/v1/plugins", plugin_list)
    await page.route("**/plugins/**", plugin_file)


async def test_a_plugin_adds_a_route_a_section_a_card_and_a_login_option(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await serve_plugins(page)

    # A route that needs a session goes through the login and comes back, query included.
    await page.goto("/demo-page?q=42")
    await expect(page).to_have_url("/login?next=%2Fdemo-page%3Fq%3D42")
    await expect(page.locator('link[href="/plugins/demo/demo.css"]')).to_have_count(1)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill("correct horse battery")
    await page.get_by_role("button", name="Sign in with the demo plugin").click()
    await expect(page).to_have_url("/demo-page?q=42")
    await expect(page.get_by_role("main")).to_contain_text(f"q is 42; signed in as {email}")

    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    await nav.get_by_role("link", name="Demo").click()
    await expect(page).to_have_url("/demo")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Demo")
    await expect(page.locator(".demo-section")).to_have_css("font-style", "italic")

    await nav.get_by_role("link", name="Security").click()
    card = page.get_by_role("region", name="Demo card")
    await expect(card.get_by_role("paragraph")).to_have_text(f"The API says you are {email}.")
    await expect(page.get_by_role("region", name="Change password")).to_be_visible()


async def test_with_no_plugins_the_app_shows_only_its_own_sections(
    page: Page, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    await page.goto("/login")
    await expect(page.locator(".login-options")).to_have_count(0)
    await log_in(page, email)
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_count(
        4  # Profile, Security, Devices, Activity
    )
