"""/openapi.json documents every route's errors, bodies and the bearer scheme."""

from typing import Any

import pytest
from httpx import AsyncClient

from app.main import create_app
from tests.conftest import make_settings

# The operations as this code base declares them (no database needed to build the spec).
_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
OPERATIONS = [
    (method.upper(), path)
    for path, operations in _SPEC["paths"].items()
    for method, operation in operations.items()
    if isinstance(operation, dict)
]
SECURED = [(m, p) for m, p in OPERATIONS if _SPEC["paths"][p][m.lower()].get("security")]
# Optional bearer: logout ends whichever session it can identify and always answers 204.
OPTIONAL_AUTH = {("POST", "/v1/users/logout")}


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = spec["paths"][path][method.lower()]
    return op


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def documented_statuses(spec: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(status) for status in operation(spec, method, path)["responses"]}


async def test_openapi_is_served(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]
    assert "/v1/users/login" in spec["paths"]


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("POST", "/v1/users/", {201, 400, 422}),
        ("POST", "/v1/users/login", {200, 400, 415}),
        ("GET", "/v1/users/me", {200, 401}),
        ("PATCH", "/v1/users/me", {200, 400, 401, 422}),
        ("DELETE", "/v1/users/me", {204, 400, 401, 422}),
        ("GET", "/v1/users/", {200, 401, 403, 422}),
        ("GET", "/v1/users/{user_id}", {200, 401, 403, 404, 422}),
        ("PATCH", "/v1/users/{user_id}", {200, 400, 401, 403, 404, 422}),
        ("DELETE", "/v1/users/{user_id}", {204, 400, 401, 403, 404, 422}),
        ("GET", "/readyz", {200, 503}),
    ],
)
async def test_routes_document_their_statuses(
    spec: dict[str, Any], method: str, path: str, statuses: set[int]
) -> None:
    assert statuses <= documented_statuses(spec, method, path)


async def test_login_documents_json_and_oauth2_form_bodies(spec: dict[str, Any]) -> None:
    body = operation(spec, "POST", "/v1/users/login")["requestBody"]

    assert body["required"] is True
    content = body["content"]
    assert set(content) >= {"application/json", "application/x-www-form-urlencoded"}
    json_schema = resolve(spec, content["application/json"]["schema"])
    assert {"email", "password"} <= set(json_schema["properties"])
    form_schema = resolve(spec, content["application/x-www-form-urlencoded"]["schema"])
    assert set(form_schema["required"]) == {"username", "password"}


async def test_login_documents_the_token_response(spec: dict[str, Any]) -> None:
    ok = operation(spec, "POST", "/v1/users/login")["responses"]["200"]
    schema = resolve(spec, ok["content"]["application/json"]["schema"])

    assert {"access_token", "token_type", "expires_in"} <= set(schema["properties"])


async def test_bearer_scheme_points_at_the_login_route(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]

    token_urls = [
        flow["tokenUrl"] for scheme in schemes.values() for flow in scheme.get("flows", {}).values()
    ]
    assert token_urls == ["/v1/users/login"]
    me = operation(spec, "GET", "/v1/users/me")
    assert me["security"] == [{name: []} for name in schemes]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users/me"),
        ("PATCH", "/v1/users/me"),
        ("DELETE", "/v1/users/me"),
        ("GET", "/v1/users/"),
        ("GET", "/v1/users/{user_id}"),
        ("PATCH", "/v1/users/{user_id}"),
        ("DELETE", "/v1/users/{user_id}"),
    ],
)
async def test_protected_routes_declare_the_bearer_scheme(
    spec: dict[str, Any], method: str, path: str
) -> None:
    assert operation(spec, method, path).get("security")


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(m, p, id=f"{m} {p}") for m, p in SECURED if (m, p) not in OPTIONAL_AUTH],
)
async def test_every_route_that_needs_a_token_documents_401(
    spec: dict[str, Any], method: str, path: str
) -> None:
    assert 401 in documented_statuses(spec, method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS],
)
async def test_documented_errors_use_the_error_body(
    spec: dict[str, Any], method: str, path: str
) -> None:
    for status, response in operation(spec, method, path)["responses"].items():
        if not status.startswith(("4", "5")) or status == "422":
            continue
        content = response.get("content", {}).get("application/json", {})
        schema = resolve(spec, content.get("schema", {}))
        assert {"code", "message"} <= set(schema.get("properties", {})), (status, response)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_every_route_has_a_description_for_users(
    spec: dict[str, Any], method: str, path: str
) -> None:
    op = operation(spec, method, path)

    assert op.get("description") or op.get("summary")


async def test_login_documents_422(spec: dict[str, Any]) -> None:
    assert 422 in documented_statuses(spec, "POST", "/v1/users/login")


async def test_documented_422_matches_the_real_validation_body(
    spec: dict[str, Any], client: AsyncClient
) -> None:
    real = (await client.post("/v1/users/", json={})).json()
    documented = operation(spec, "POST", "/v1/users/")["responses"]["422"]
    schema = resolve(spec, documented["content"]["application/json"]["schema"])

    assert set(schema["properties"]) == set(real)
