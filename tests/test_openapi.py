"""/openapi.json documents every route's errors, bodies and the bearer scheme."""

import re
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.security import MAX_PASSWORD_BYTES
from app.main import create_app
from app.services.passwords import MIN_PASSWORD_CHARACTERS
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
NO_DATABASE = {"/healthz", "/v1/plugins", "/.well-known/openid-configuration"}


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
        ("POST", "/v1/users/", {201, 400, 413, 422, 503}),
        ("POST", "/v1/users/login", {200, 400, 413, 415, 422, 503}),
        ("GET", "/v1/users/me", {200, 401, 503}),
        ("PATCH", "/v1/users/me", {200, 400, 401, 413, 422, 503}),
        ("DELETE", "/v1/users/me", {204, 400, 401, 413, 422, 503}),
        ("GET", "/v1/users/", {200, 401, 403, 422, 503}),
        ("GET", "/v1/users/{user_id}", {200, 401, 403, 404, 422, 503}),
        ("PATCH", "/v1/users/{user_id}", {200, 400, 401, 403, 404, 413, 422, 503}),
        ("DELETE", "/v1/users/{user_id}", {204, 400, 401, 403, 404, 422, 503}),
        ("GET", "/readyz", {200, 503}),
        ("POST", "/v1/tokens/introspect", {200, 400, 401, 413, 429, 503}),
        ("POST", "/v1/service-keys", {201, 400, 401, 403, 413, 422, 503}),
        ("GET", "/v1/service-keys", {200, 401, 403, 503}),
        ("DELETE", "/v1/service-keys/{key_id}", {204, 401, 403, 404, 503}),
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
    user_schemes = [name for name, scheme in schemes.items() if "flows" in scheme]
    assert me["security"] == [{name: []} for name in user_schemes]


async def test_introspection_takes_a_service_key_not_a_user_token(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["ServiceKey"]

    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert operation(spec, "POST", "/v1/tokens/introspect")["security"] == [{"ServiceKey": []}]


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


def _property(spec: dict[str, Any], model: str, name: str) -> dict[str, Any]:
    """A model's property schema, with `X | None`'s null branch left out."""
    prop: dict[str, Any] = spec["components"]["schemas"][model]["properties"][name]
    branches: list[dict[str, Any]] = [
        b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"
    ]
    assert len(branches) == 1, prop
    return branches[0]


@pytest.mark.parametrize(
    "model", ["UserCreate", "UserSelfUpdate", "UserAdminUpdate", "ResetPasswordRequest"]
)
async def test_new_passwords_state_the_policys_length_bounds(
    spec: dict[str, Any], model: str
) -> None:
    password = _property(spec, model, "password")

    assert password["minLength"] == MIN_PASSWORD_CHARACTERS
    # Bytes can't be stated in JSON Schema; a password has at most as many characters.
    assert password["maxLength"] == MAX_PASSWORD_BYTES
    assert f"{MAX_PASSWORD_BYTES} bytes" in password["description"]


@pytest.mark.parametrize("model", ["UserSelfUpdate", "PasswordConfirmation"])
async def test_current_password_states_it_cannot_be_empty(spec: dict[str, Any], model: str) -> None:
    assert _property(spec, model, "current_password")["minLength"] == 1


@pytest.mark.parametrize("path", ["/v1/users/login", "/v1/users/forgot-password"])
async def test_login_emails_state_their_pattern(spec: dict[str, Any], path: str) -> None:
    body = operation(spec, "POST", path)["requestBody"]["content"]["application/json"]
    email = resolve(spec, body["schema"])["properties"]["email"]
    pattern = re.compile(email["pattern"])

    assert pattern.search(" Ann@Example.com\n")
    assert not pattern.search("ann\x00@example.com")
    assert not pattern.search("ann@exa\tmple.com")


@pytest.mark.parametrize(
    ("method", "path"),
    # /healthz and the plugin list answer from memory.
    [pytest.param(m, p, id=f"{m} {p}") for m, p in OPERATIONS if p not in NO_DATABASE],
)
async def test_every_route_that_uses_the_database_documents_503(
    spec: dict[str, Any], method: str, path: str
) -> None:
    assert 503 in documented_statuses(spec, method, path)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param(m, p, id=f"{m} {p}")
        for m, p in OPERATIONS
        if "requestBody" in _SPEC["paths"][p][m.lower()]
    ],
)
async def test_every_route_that_takes_a_body_documents_413(
    spec: dict[str, Any], method: str, path: str
) -> None:
    assert 413 in documented_statuses(spec, method, path)


async def test_documented_503_promises_retry_after(spec: dict[str, Any]) -> None:
    unavailable = operation(spec, "GET", "/v1/users/me")["responses"]["503"]

    assert "Retry-After" in unavailable["headers"]
