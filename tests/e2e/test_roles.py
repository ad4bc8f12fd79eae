"""Roles in the browser: superusers create and delete them on the Roles page and give
them on a user's card; users see theirs on the profile."""

import secrets

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import ValidationError

from app.api.v1.roles.schemas import RoleCreate
from tests.e2e.conftest import PASSWORD, LiveServer, PageWatch, log_in, unique_email

pytestmark = pytest.mark.e2e


async def roles_of(live_server: LiveServer, email: str) -> list[str]:
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login = await client.post("/v1/users/login", json={"email": email, "password": PASSWORD})
        token = login.json()["access_token"]
        me = await client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    roles: list[str] = me.json()["roles"]
    return roles


async def test_a_superuser_creates_gives_and_deletes_a_role(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email("editor")
    await live_server.register(email)
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    role = f"editor-{secrets.token_hex(3)}"
    watch.expect_http_error("POST", "/v1/roles", 409)

    await page.goto("/login")
    await log_in(page, admin)
    await page.get_by_role("navigation").get_by_role("link", name="Roles").click()
    await expect(page).to_have_url("/admin/roles")
    main = page.get_by_role("main")

    # The browser checks the name's shape first, as the server would.
    await main.get_by_label("Name").fill("Editor")
    await main.get_by_role("button", name="Create role").click()
    await expect(main.get_by_text("Start with a lowercase letter")).to_be_visible()
    await expect(main.get_by_label("Name")).to_be_focused()

    await main.get_by_label("Name").fill(role)
    await main.get_by_label("Description (optional)").fill("Edits articles")
    await main.get_by_role("button", name="Create role").click()
    await expect(main.locator(".notice-slot .notice")).to_have_text(
        f"The role {role} has been created."
    )
    item = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=role))
    await expect(item).to_contain_text("Edits articles")
    await expect(main.get_by_label("Name")).to_have_value("")

    await main.get_by_label("Name").fill(role)  # the server refuses a second one
    await main.get_by_role("button", name="Create role").click()
    await expect(main.get_by_text("A role with this name already exists.")).to_be_visible()

    await page.goto(f"/admin?email={email}")
    card = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=email))
    await card.get_by_text("Manage").click()
    await card.get_by_role("button", name=f"Roles {email}", exact=True).click()
    await expect(card.get_by_role("group", name=f"Roles of {email}")).to_be_visible()
    await card.get_by_label(role, exact=True).check()
    await card.get_by_role("button", name=f"Save roles {email}").click()
    await expect(main.locator(".notice-slot .notice")).to_have_text(
        f"{email} now has the roles {role}."
    )
    await expect(card.locator(".badge--role")).to_have_text(f"Role: {role}")
    await expect(card.get_by_role("button", name=f"Roles {email}", exact=True)).to_be_focused()
    await expect(card.get_by_role("group", name=f"Roles of {email}")).to_be_hidden()
    assert await roles_of(live_server, email) == [role]

    await page.goto("/admin/roles")
    item = main.get_by_role("listitem").filter(has=page.get_by_role("heading", name=role))
    await item.get_by_role("button", name=f"Delete… {role}").click()
    dialog = page.get_by_role("dialog", name=f"Delete the role {role}?")
    await expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    await dialog.get_by_role("button", name="Delete role").click()
    await expect(main.get_by_role("heading", name=role)).to_have_count(0)
    assert await roles_of(live_server, email) == []


async def test_the_profile_shows_the_users_roles(page: Page, live_server: LiveServer) -> None:
    email = unique_email("member")
    user = await live_server.register(email)
    admin = unique_email("admin")
    await live_server.create_superuser(admin)
    names = sorted(f"{kind}-{secrets.token_hex(3)}" for kind in ("viewer", "billing:read"))
    async with httpx.AsyncClient(base_url=live_server.url) as client:
        login = await client.post("/v1/users/login", json={"email": admin, "password": PASSWORD})
        root = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for name in names:
            assert (await client.post("/v1/roles", json={"name": name}, headers=root)).is_success
        given = await client.put(f"/v1/users/{user['id']}/roles", json=names, headers=root)
        assert given.json() == names

    await page.goto("/login")
    await log_in(page, email)

    details = page.locator(".details")
    await expect(details.locator(".details__row").filter(has_text="Roles")).to_have_text(
        "Roles" + ", ".join(names)
    )


async def test_the_roles_page_is_refused_to_regular_users(
    page: Page, watch: PageWatch, live_server: LiveServer
) -> None:
    email = unique_email()
    await live_server.register(email)
    watch.expect_http_error("GET", "/v1/roles", 403)

    await page.goto("/login?next=%2Fadmin%2Froles")
    await log_in(page, email)

    await expect(page).to_have_url("/admin/roles")
    main = page.get_by_role("main")
    await expect(
        main.get_by_text("You need administrator rights to see this page.")
    ).to_be_visible()
    await expect(main.get_by_label("Name")).to_have_count(0)
    await expect(page.get_by_role("navigation").get_by_role("link", name="Roles")).to_have_count(0)


ROLE_NAMES = ["a", "editor", "billing:read", "team.lead_2-x", "a" + "b" * 63, "a" + "b" * 64]
ROLE_NAMES += ["", "Editor", "1st", "-x", "_x", "edi tor", "editör", "e\n", "x/y", "ａ"]
CHECK_ROLE_NAME = """async (name) => (await import("/js/views/roles.js")).checkRoleName(name)"""


async def test_the_browser_refuses_exactly_the_role_names_the_server_refuses(
    page: Page,
) -> None:
    await page.goto("/login")

    for name in ROLE_NAMES:
        try:
            RoleCreate(name=name)
            server_accepts = True
        except ValidationError:
            server_accepts = False
        browser_problem = await page.evaluate(CHECK_ROLE_NAME, name)
        assert (browser_problem is None) == server_accepts, name
