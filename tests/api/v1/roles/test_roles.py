"""Roles: superusers create, list and delete them and set a user's roles; users see their
own in /me, access tokens carry them, and require_roles guards routes with them."""

import uuid
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, login, register

ROLES = "/v1/roles"
ME = "/v1/users/me"


def roles_url(user_id: str) -> str:
    return f"/v1/users/{user_id}/roles"


def claims(token: str) -> dict[str, Any]:
    # Only the payload matters here; how tokens are signed is tested elsewhere.
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


@pytest.fixture
def root(superuser_token: str) -> dict[str, str]:
    return bearer(superuser_token)


@pytest.fixture
async def ann(client: AsyncClient) -> dict[str, Any]:
    user = await register(client, "ann@example.com")
    return {**user, "headers": bearer(await login(client, "ann@example.com"))}


async def create(
    client: AsyncClient, root: dict[str, str], name: str, description: str = ""
) -> None:
    response = await client.post(
        ROLES, json={"name": name, "description": description}, headers=root
    )
    assert response.status_code == 201, response.text


async def give(client: AsyncClient, root: dict[str, str], user_id: str, names: list[str]) -> Any:
    response = await client.put(roles_url(user_id), json=names, headers=root)
    assert response.status_code == 200, response.text
    return response.json()


# -- the roles themselves ------------------------------------------------------------------


async def test_a_superuser_creates_lists_and_deletes_roles(
    client: AsyncClient, root: dict[str, str]
) -> None:
    created = await client.post(
        ROLES, json={"name": "editor", "description": "  Edits articles "}, headers=root
    )
    await create(client, root, "billing:read")

    assert created.status_code == 201
    assert created.json()["name"] == "editor"
    assert created.json()["description"] == "Edits articles"
    assert created.json()["created_at"].endswith(("Z", "+00:00"))
    listed = (await client.get(ROLES, headers=root)).json()
    assert [(role["name"], role["description"]) for role in listed] == [
        ("billing:read", ""),
        ("editor", "Edits articles"),
    ]
    deleted = await client.delete(f"{ROLES}/editor", headers=root)
    assert deleted.status_code == 204
    assert [role["name"] for role in (await client.get(ROLES, headers=root)).json()] == [
        "billing:read"
    ]


async def test_a_duplicate_role_is_a_409(client: AsyncClient, root: dict[str, str]) -> None:
    await create(client, root, "editor")

    again = await client.post(ROLES, json={"name": "editor"}, headers=root)

    assert again.status_code == 409
    assert again.json()["code"] == "ROLE_ALREADY_EXISTS"


async def test_deleting_an_unknown_role_is_a_404(client: AsyncClient, root: dict[str, str]) -> None:
    response = await client.delete(f"{ROLES}/nobody", headers=root)

    assert response.status_code == 404
    assert response.json()["code"] == "ROLE_NOT_FOUND"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Editor",
        "1editor",
        "-editor",
        "edi tor",
        "editör",
        "editor\n",
        "editor\x00",
        "e" * 65,
        12,
        None,
        ["editor"],
    ],
)
async def test_a_malformed_role_name_is_a_422_naming_the_field(
    client: AsyncClient, root: dict[str, str], name: Any
) -> None:
    response = await client.post(ROLES, json={"name": name}, headers=root)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert [error["field"] for error in body["errors"]] == ["name"]
    assert (await client.get(ROLES, headers=root)).json() == []


async def test_names_may_use_every_allowed_character_up_to_64(
    client: AsyncClient, root: dict[str, str]
) -> None:
    longest = "a" + "b" * 63
    for name in ("a", "billing:read", "team.lead_2-x", longest):
        await create(client, root, name)

    assert len((await client.get(ROLES, headers=root)).json()) == 4


@pytest.mark.parametrize("description", ["x" * 257, "line\nbreak", 5])
async def test_a_bad_description_is_a_422(
    client: AsyncClient, root: dict[str, str], description: Any
) -> None:
    response = await client.post(
        ROLES, json={"name": "editor", "description": description}, headers=root
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["description"]


async def test_a_malformed_name_in_the_path_is_a_422(
    client: AsyncClient, root: dict[str, str]
) -> None:
    for name in ("Editor", "e%00x", "x" * 65):
        response = await client.delete(f"{ROLES}/{name}", headers=root)
        assert response.status_code == 422, name


# -- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", ROLES, None),
        ("POST", ROLES, {"name": "editor"}),
        ("DELETE", f"{ROLES}/editor", None),
        ("PUT", roles_url(str(uuid.uuid4())), ["editor"]),
    ],
)
async def test_roles_are_for_superusers_only(
    client: AsyncClient,
    root: dict[str, str],
    ann: dict[str, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    await create(client, root, "editor")

    anonymous = await client.request(method, path, json=body)
    user = await client.request(method, path, json=body, headers=ann["headers"])

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHORIZED")
    assert (user.status_code, user.json()["code"]) == (403, "FORBIDDEN")
    assert [role["name"] for role in (await client.get(ROLES, headers=root)).json()] == ["editor"]


# -- a user's roles --------------------------------------------------------------------------


async def test_setting_roles_answers_them_sorted_and_without_duplicates(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any]
) -> None:
    for name in ("editor", "admin.audit", "viewer"):
        await create(client, root, name)

    answered = await give(client, root, ann["id"], ["viewer", "editor", "viewer", "admin.audit"])
    me = (await client.get(ME, headers=ann["headers"])).json()
    admin_view = (await client.get(f"/v1/users/{ann['id']}", headers=root)).json()

    assert answered == ["admin.audit", "editor", "viewer"]
    assert me["roles"] == ["admin.audit", "editor", "viewer"]
    assert admin_view["roles"] == ["admin.audit", "editor", "viewer"]
    assert await give(client, root, ann["id"], ["editor"]) == ["editor"]
    assert (await client.get(ME, headers=ann["headers"])).json()["roles"] == ["editor"]
    assert await give(client, root, ann["id"], []) == []
    assert (await client.get(ME, headers=ann["headers"])).json()["roles"] == []


async def test_the_admin_list_shows_each_users_roles(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any]
) -> None:
    await create(client, root, "editor")
    await give(client, root, ann["id"], ["editor"])

    page = (await client.get("/v1/users/", headers=root)).json()

    assert {item["email"]: item["roles"] for item in page["items"]} == {
        "root@example.com": [],
        "ann@example.com": ["editor"],
    }


async def test_unknown_role_names_are_a_400_listing_them(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any]
) -> None:
    await create(client, root, "editor")
    await give(client, root, ann["id"], ["editor"])

    response = await client.put(
        roles_url(ann["id"]), json=["editor", "zeta", "alpha", "zeta"], headers=root
    )

    assert response.status_code == 400
    assert response.json()["code"] == "ROLES_UNKNOWN"
    assert response.json()["roles"] == ["alpha", "zeta"]
    assert (await client.get(ME, headers=ann["headers"])).json()["roles"] == ["editor"]


async def test_roles_for_an_unknown_user_are_a_404(
    client: AsyncClient, root: dict[str, str]
) -> None:
    await create(client, root, "editor")

    response = await client.put(roles_url(str(uuid.uuid4())), json=["editor"], headers=root)

    assert response.status_code == 404
    assert response.json()["code"] == "USER_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [{"roles": ["editor"]}, "editor", ["Editor"], [""], [None], [["editor"]], ["e" * 65]],
)
async def test_a_malformed_roles_body_is_a_422(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any], body: Any
) -> None:
    response = await client.put(roles_url(ann["id"]), json=body, headers=root)

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_too_many_roles_in_one_request_is_a_422(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any]
) -> None:
    response = await client.put(
        roles_url(ann["id"]), json=[f"r{i}" for i in range(101)], headers=root
    )

    assert response.status_code == 422


async def test_deleting_a_role_takes_it_from_its_users(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    bob = await register(client, "bob@example.com")
    for name in ("editor", "viewer"):
        await create(client, root, name)
    await give(client, root, ann["id"], ["editor", "viewer"])
    await give(client, root, bob["id"], ["editor"])

    assert (await client.delete(f"{ROLES}/editor", headers=root)).status_code == 204

    assert (await client.get(ME, headers=ann["headers"])).json()["roles"] == ["viewer"]
    bob_view = (await client.get(f"/v1/users/{bob['id']}", headers=root)).json()
    assert bob_view["roles"] == []
    async with db_engine.connect() as connection:
        rows = await connection.execute(text("SELECT role_name FROM user_roles"))
        assert [row.role_name for row in rows] == ["viewer"]
    # The name is free again, and a new role of that name is given to no one.
    await create(client, root, "editor")
    assert (await client.get(ME, headers=ann["headers"])).json()["roles"] == ["viewer"]


async def test_deleting_a_user_deletes_their_role_assignments(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    await create(client, root, "editor")
    await give(client, root, ann["id"], ["editor"])

    assert (await client.delete(f"/v1/users/{ann['id']}", headers=root)).status_code == 204

    async with db_engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM user_roles"))).scalar() == 0
    assert (await client.delete(f"{ROLES}/editor", headers=root)).status_code == 204


async def test_role_changes_are_audited(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any], db_engine: AsyncEngine
) -> None:
    await create(client, root, "editor", "Edits")
    await create(client, root, "viewer")
    await give(client, root, ann["id"], ["editor", "viewer"])
    await give(client, root, ann["id"], ["editor", "viewer"])  # no change, no event
    await client.delete(f"{ROLES}/viewer", headers=root)

    async with db_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT type, user_id, actor_id, detail FROM audit_events "
                "WHERE type LIKE 'role%' OR type LIKE 'user_roles%' ORDER BY occurred_at"
            )
        )
        seen = [(row.type, row.user_id, row.actor_id is not None, row.detail) for row in rows]
    assert seen == [
        ("role_created", None, True, {"name": "editor"}),
        ("role_created", None, True, {"name": "viewer"}),
        (
            "user_roles_changed",
            uuid.UUID(ann["id"]),
            True,
            {"added": ["editor", "viewer"], "removed": [], "roles": ["editor", "viewer"]},
        ),
        ("role_deleted", None, True, {"name": "viewer", "holders": 1}),
    ]


# -- tokens ----------------------------------------------------------------------------------


async def test_access_tokens_carry_the_roles_from_the_next_refresh_on(
    client: AsyncClient, root: dict[str, str], ann: dict[str, Any]
) -> None:
    await create(client, root, "editor")
    signed_in = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    first = signed_in.json()
    assert claims(first["access_token"])["roles"] == []

    await give(client, root, ann["id"], ["editor"])

    # The session goes on: its token still works, and shows the change only once renewed.
    assert (await client.get(ME, headers=bearer(first["access_token"]))).status_code == 200
    refreshed = await client.post(
        "/v1/users/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert claims(refreshed.json()["access_token"])["roles"] == ["editor"]
    assert claims(await login(client, "ann@example.com"))["roles"] == ["editor"]
    oauth = await client.post(
        "/v1/oauth/token",
        data={"grant_type": "password", "username": "ann@example.com", "password": PASSWORD},
    )
    assert oauth.status_code == 200, oauth.text
    assert claims(oauth.json()["access_token"])["roles"] == ["editor"]


# -- require_roles ---------------------------------------------------------------------------


@pytest.fixture
async def greeter(client_for: Any) -> Any:
    async with client_for(plugins=["tests.plugins.greeter"]) as client:
        yield client


async def test_require_roles_lets_in_only_users_with_every_role(
    greeter: AsyncClient, superuser_token: str
) -> None:
    root = bearer(await login(greeter, "root@example.com"))  # this app's own token
    user = await register(greeter, "ann@example.com")
    headers = bearer(await login(greeter, "ann@example.com"))
    await create(greeter, root, "editor")
    await create(greeter, root, "publisher")

    assert (await greeter.get("/v1/greeter/desk")).status_code == 401
    refused = await greeter.get("/v1/greeter/desk", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "FORBIDDEN")

    await give(greeter, root, user["id"], ["editor"])
    # The same token: the check reads the user's roles now, not the token's.
    assert (await greeter.get("/v1/greeter/desk", headers=headers)).json() == {"desk": "open"}
    assert (await greeter.get("/v1/greeter/press", headers=headers)).status_code == 403

    await give(greeter, root, user["id"], ["editor", "publisher"])
    press = await greeter.get("/v1/greeter/press", headers=headers)
    assert press.json() == {"printed_by": "ann@example.com"}

    await give(greeter, root, user["id"], [])
    assert (await greeter.get("/v1/greeter/desk", headers=headers)).status_code == 403


async def test_require_roles_lets_a_superuser_in_without_roles(
    greeter: AsyncClient, superuser_token: str
) -> None:
    root = bearer(await login(greeter, "root@example.com"))

    assert (await greeter.get("/v1/greeter/desk", headers=root)).status_code == 200
    assert (await greeter.get("/v1/greeter/press", headers=root)).status_code == 200
