"""The Service keys page: superusers create a key (shown once), see it listed, revoke it."""

import secrets

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import LiveServer, PageWatch, log_in, unique_email
from tests.e2e.test_accessibility import assert_accessible

pytestmark = pytest.mark.e2e


async def introspection_status(server: LiveServer, key: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/v1/tokens/introspect",
            data={"token": "not-a-token"},
            headers={"Authorization": f"Bearer {key}"},
        )
    return response.status_code


async def test_a_superuser_creates_a_key_sees_it_once_and_revokes_it(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    name = f"billing-{secrets.token_hex(3)}"
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    await page.goto("/login")
    await log_in(page, admin)
    await page.get_by_role("navigation").get_by_role("link", name="Service keys").click()
    await expect(page).to_have_url("/admin/service-keys")
    main = page.get_by_role("main")

    await main.get_by_label("Name").fill(name)
    await main.get_by_role("button", name="Create key").click()

    shown = main.get_by_label(f"Key for {name}")
    await expect(shown).to_be_focused()
    key = await shown.input_value()
    assert key.startswith("sk_")
    assert await introspection_status(live_server, key) == 200
    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name))
    await expect(card).to_contain_text("Created")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 375, "height": 800})
    await page.emulate_media(color_scheme="dark")
    await assert_accessible(page)  # the long key scrolls inside its field, not the page

    # The same name again (in other case) is refused at the field, and no second key is shown.
    watch.expect_http_error("POST", "/v1/service-keys", 400)
    await main.get_by_label("Name").fill(name.upper())
    await main.get_by_role("button", name="Create key").click()
    await expect(
        main.get_by_text("Another live service key already has this name.")
    ).to_be_visible()
    await expect(main.get_by_label("Name")).to_be_focused()

    await card.get_by_role("button", name=f"Revoke… {name}").click()
    dialog = page.get_by_role("dialog", name=f"Revoke {name}?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await dialog.get_by_role("button", name="Revoke key").click()

    await expect(main.get_by_role("heading", name=name, exact=True)).to_have_count(0)
    await expect(main.locator(".notice--success")).to_have_text(f"{name} has been revoked.")
    assert await introspection_status(live_server, key) == 401

    # Shown once: after a reload only the name could come back, and it is gone.
    await page.reload()
    await expect(main.locator(".results-summary")).to_be_visible()
    assert key not in await page.content()


async def test_a_bad_name_is_explained_before_anything_is_sent(
    page: Page, live_server: LiveServer
) -> None:
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    await page.goto("/login?next=%2Fadmin%2Fservice-keys")
    await log_in(page, admin)
    main = page.get_by_role("main")

    await main.get_by_label("Name").fill(" padded")
    await main.get_by_role("button", name="Create key").click()

    await expect(main.get_by_text("spaces only between them")).to_be_visible()
    await expect(main.get_by_label("Name")).to_be_focused()


async def test_the_service_keys_page_is_refused_to_regular_users(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("GET", "/v1/service-keys", 403)

    await page.goto("/login?next=%2Fadmin%2Fservice-keys")
    await log_in(page, email)

    await expect(page).to_have_url("/admin/service-keys")
    main = page.get_by_role("main")
    await expect(
        main.get_by_text("You need administrator rights to see this page.")
    ).to_be_visible()
    await expect(main.get_by_label("Name")).to_have_count(0)
    navigation = page.get_by_role("navigation")
    await expect(navigation.get_by_role("link", name="Service keys")).to_have_count(0)
