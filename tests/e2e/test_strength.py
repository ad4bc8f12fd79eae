"""The strength meter: plain words instead of byte counts, loaded only where a new
password is typed; the server's refusal, with its reason, still has the last word."""

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import LiveServer, PageWatch, unique_email

pytestmark = pytest.mark.e2e

ESTIMATOR = "/vendor/zxcvbn-ts/"


def estimator_requests(watch: PageWatch) -> int:
    return sum(path.startswith(ESTIMATOR) for _, path in watch.requests)


async def test_the_meter_explains_strength_in_words_and_loads_only_when_needed(
    page: Page, watch: PageWatch
) -> None:
    await page.goto("/login")
    await page.get_by_label("Password", exact=True).fill("anything at all")
    await page.goto("/register")
    password = page.get_by_label("Password", exact=True)
    await expect(password).to_have_accessible_description(
        "Use at least 8 characters. A few unusual words together make a strong password you"
        " can remember."
    )
    assert estimator_requests(watch) == 0  # neither the login form nor an untouched field

    await password.fill("password123")
    hint = page.locator(".field__hint").filter(has_text="Strength")
    await expect(hint).to_have_text(
        "Strength: very weak. This is a commonly used password. Add another word or two."
        " Unusual words are better."
    )
    await expect(page.locator(".strength")).to_have_attribute("data-score", "0")
    assert estimator_requests(watch) == 2

    await password.fill("lantern quietly orbits mushroom")
    await expect(hint).to_have_text("Strength: very strong.")
    await expect(page.locator(".strength")).to_have_attribute("data-score", "4")
    await expect(page.get_by_role("main")).not_to_contain_text("bytes")


async def test_a_password_the_server_refuses_is_explained_with_its_reason(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email, weak = unique_email(), "password123"
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        refused = await client.post("/v1/users/", json={"email": email, "password": weak})
    assert refused.status_code == 400
    reason = refused.json()["message"]
    watch.expect_http_error("POST", "/v1/users/", 400)

    await page.goto("/register")
    await page.get_by_label("Email address").fill(email)
    password = page.get_by_label("Password", exact=True)
    await password.fill(weak)
    await page.get_by_role("button", name="Create account").click()

    await expect(password).to_be_focused()
    await expect(password).to_have_accessible_description(
        re.compile(re.escape(f"Error: This password can't be used. {reason}") + "$")
    )
