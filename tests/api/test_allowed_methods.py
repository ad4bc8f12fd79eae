"""A wrong method on any path is a 405 whose Allow header lists every method the path has."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.main import create_app
from tests.conftest import make_settings

# The paths and methods as this code base declares them right now, new ones included.
_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
PATHS = {
    path: {method.upper() for method in operations if method.upper() in HTTP_METHODS}
    for path, operations in _SPEC["paths"].items()
}


def concrete(path: str) -> str:
    for name in ("{user_id}", "{session_id}", "{key_id}"):
        path = path.replace(name, str(uuid.uuid4()))
    return path


def allowed(response: Any) -> set[str]:
    return {method.strip() for method in response.headers.get("allow", "").split(",")} - {""}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=f"{method} {path}")
        for path, methods in PATHS.items()
        for method in HTTP_METHODS
        if method not in methods
    ],
)
async def test_wrong_method_is_405_listing_exactly_the_paths_methods(
    client: AsyncClient, path: str, method: str
) -> None:
    response = await client.request(method, concrete(path))

    assert response.status_code == 405, response.text
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert allowed(response) - {"HEAD"} == PATHS[path]


@pytest.mark.parametrize("path", list(PATHS))
async def test_allow_lists_head_exactly_where_head_is_answered(
    client: AsyncClient, path: str
) -> None:
    listed = allowed(await client.request("PUT", concrete(path)))

    head = await client.head(concrete(path))

    assert ("HEAD" in listed) == (head.status_code != 405)


@pytest.mark.parametrize(
    ("method", "path", "methods"),
    [
        ("PATCH", "/v1/users/login", {"POST"}),
        ("GET", "/v1/users/login", {"POST"}),
        ("DELETE", "/v1/users/refresh", {"POST"}),
        ("PATCH", "/v1/users/logout", {"POST"}),
        ("GET", "/v1/users/verify", {"POST"}),
        ("DELETE", "/v1/users/forgot-password", {"POST"}),
        ("GET", "/v1/users/me/verification-email", {"POST"}),
        ("PUT", "/v1/users/me", {"GET", "PATCH", "DELETE"}),
        ("PUT", "/v1/users/", {"GET", "POST"}),
    ],
)
async def test_fixed_paths_beside_user_id_are_not_taken_for_an_id(
    client: AsyncClient, superuser_token: str, method: str, path: str, methods: set[str]
) -> None:
    # As a superuser too: the admin routes at /v1/users/{user_id} must not answer these.
    response = await client.request(
        method, path, headers={"Authorization": f"Bearer {superuser_token}"}
    )

    assert response.status_code == 405
    assert allowed(response) == methods
