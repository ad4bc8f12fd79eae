"""The admin view: only for superusers, who can search, page and manage users."""

import re
import secrets

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e


async def test_a_superuser_can_search_page_and_manage_users(
    page: Page, live_server: LiveServer
) -> None:
    team = f"team{secrets.token_hex(3)}"
    emails = [f"{team}-{number:02d}@example.com" for number in range(23)]
    for email in emails:  # in order: the API lists users oldest first
        await live_server.register(email)
    admin = unique_email("admin")
    await live_server.create_superuser(admin)

    await page.goto("/login")
    await log_in(page, admin)
    await page.get_by_role("link", name="Users").click()
    await expect(page).to_have_url("/admin")
    main = page.get_by_role("main")

    await main.get_by_label("Search by email").fill(team)
    await main.get_by_role("button", name="Search").click()
    summary = main.locator(".results-summary")
    await expect(summary).to_have_text(f"Showing 1–20 of 23 users matching “{team}”.")
    await expect(summary).to_be_focused()
    await expect(page).to_have_url(f"/admin?email={team}")

    await main.get_by_role("button", name="Next page").click()
    await expect(summary).to_have_text(f"Showing 21–23 of 23 users matching “{team}”.")
    await expect(page).to_have_url(f"/admin?email={team}&offset=20")
    await expect(main.get_by_role("button", name="Next page")).to_be_disabled()

    target = emails[20]
    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=target))
    await card.get_by_text("Manage").click()
    await card.get_by_role("button", name=f"Deactivate {target}").click()
    await expect(card.get_by_text("Deactivated", exact=True)).to_be_visible()
    await expect(card.get_by_role("button", name=f"Reactivate {target}")).to_be_focused()
    assert await live_server.login_status(target) == 400

    await card.get_by_role("button", name=f"Reactivate {target}").click()
    await expect(card.get_by_text("Active", exact=True)).to_be_visible()
    assert await live_server.login_status(target) == 200

    await card.get_by_role("button", name=f"Make admin {target}").click()
    await expect(card.get_by_text("Administrator", exact=True)).to_be_visible()
    await card.get_by_role("button", name=f"Remove admin rights {target}").click()
    await expect(card.get_by_text("Administrator", exact=True)).to_be_hidden()

    await card.get_by_role("button", name=f"Delete… {target}").click()
    dialog = page.get_by_role("dialog", name=f"Delete {target}?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await dialog.get_by_role("button", name="Delete user").click()
    await expect(summary).to_have_text(f"Showing 21–22 of 22 users matching “{team}”.")
    await expect(main.get_by_role("heading", name=target)).to_have_count(0)
    assert await live_server.login_status(target) == 400

    await main.get_by_role("button", name="Previous page").click()
    await expect(summary).to_have_text(f"Showing 1–20 of 22 users matching “{team}”.")


async def test_a_superuser_cannot_lock_themselves_out(page: Page, live_server: LiveServer) -> None:
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    await page.goto(f"/login?next=/admin%3Femail%3D{admin}")
    await log_in(page, admin)

    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=admin))
    await expect(card.get_by_text("This is you.")).to_be_visible()
    await expect(card.get_by_role("button")).to_have_count(0)


async def test_the_admin_view_is_refused_to_regular_users(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("GET", "/v1/users/", 403)

    await page.goto("/login?next=%2Fadmin")
    await log_in(page, email)

    await expect(page).to_have_url("/admin")
    main = page.get_by_role("main")
    await expect(
        main.get_by_text("You need administrator rights to see this page.")
    ).to_be_visible()
    await expect(main.get_by_label("Search by email")).to_have_count(0)
    await expect(page.get_by_role("navigation").get_by_role("link", name="Users")).to_have_count(0)


async def test_the_user_list_is_compact_on_a_phone_and_offers_every_action(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    team = f"phone{secrets.token_hex(3)}"
    emails = [f"{team}-{number:02d}@example.com" for number in range(20)]
    for email in emails:
        await live_server.register(email)
    target = emails[0]
    assert await live_server.login_status(target) == 200  # a session, and a last login
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    await page.set_viewport_size({"width": 375, "height": 800})
    await page.goto(f"/login?next=/admin%3Femail%3D{team}")
    await log_in(page, admin)

    main = page.get_by_role("main")
    await expect(main.locator(".results-summary")).to_have_text(
        f"Showing 1–20 of 20 users matching “{team}”."
    )
    # Issue 12 measured 4,885 px for 20 users; compact rows need about a tenth of a
    # phone screen each.
    height = await main.locator(".user-list").evaluate("(list) => list.offsetHeight")
    assert height <= 20 * 120, height

    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=target))
    await expect(card).to_contain_text("Last login")
    await expect(
        main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=emails[1]))
    ).to_contain_text("Never logged in")
    await card.get_by_text("Manage").click()

    await card.get_by_role("button", name=f"Mark email confirmed {target}").click()
    await expect(card.get_by_text("Verified", exact=True)).to_be_visible()
    await expect(
        card.get_by_role("button", name=f"Mark email unconfirmed {target}")
    ).to_be_focused()

    await card.get_by_role("button", name=f"Sessions {target}").click()
    await expect(card.get_by_role("heading", name="Sessions (1)")).to_be_visible()
    await card.get_by_role("button", name=f"Log out everywhere {target}").click()
    await expect(card.get_by_role("heading", name="Sessions (0)")).to_be_visible()
    await expect(main.locator(".notice-slot .notice")).to_have_text(
        f"{target} has been logged out everywhere."
    )

    before = len(re.findall(re.escape(target), live_server.log_path.read_text()))
    await card.get_by_role("button", name=f"Send reset link {target}").click()
    await expect(main.locator(".notice-slot .notice")).to_have_text(
        f"A password reset link is on its way to {target}."
    )
    assert await live_server.mail_link(target, "reset-password")
    assert len(re.findall(re.escape(target), live_server.log_path.read_text())) > before
    assert await page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0


async def test_a_users_sessions_show_their_name_and_the_device_as_their_devices_list_does(
    page: Page, live_server: LiveServer
) -> None:
    user, admin = unique_email("named"), unique_email("admin")
    await live_server.register(user)
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login = await client.post(
            "/v1/users/login",
            json={"email": user, "password": PASSWORD},
            headers={"User-Agent": "curl/8.4.0"},
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        session_id = (await client.get("/v1/users/me/sessions", headers=auth)).json()[0]["id"]
        named = await client.patch(
            f"/v1/users/me/sessions/{session_id}", json={"name": "Build box"}, headers=auth
        )
        assert named.status_code == 200, named.text
    await live_server.create_superuser(admin)
    await page.goto(f"/login?next=/admin%3Femail%3D{user}")
    await log_in(page, admin)

    card = (
        page.get_by_role("main")
        .get_by_role("listitem")
        .filter(has=page.get_by_role("heading", name=user))
    )
    await card.get_by_text("Manage").click()
    await card.get_by_role("button", name=f"Sessions {user}").click()
    session = card.locator(f'.session[data-session="{session_id}"]')
    await expect(session.locator(".session__device")).to_have_text("Build box")
    for fact in ("Device", "curl 8.4.0", "Signed in", "with password", "Last active", "127.0.0.1"):
        await expect(session).to_contain_text(fact)
