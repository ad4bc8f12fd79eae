"""Security headers on every response, the request body cap, and CORS."""

from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.conftest import PASSWORD, bearer, register

STRICT_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_security_headers(response: Response) -> None:
    for name, value in STRICT_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    csp = response.headers.get("content-security-policy", "")
    directives = {part.strip() for part in csp.split(";")}
    assert "frame-ancestors 'none'" in directives, csp
    assert "default-src 'self'" in directives, csp


REQUESTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "healthz": ("GET", "/healthz", {}),
    "readyz": ("GET", "/readyz", {}),
    "openapi": ("GET", "/openapi.json", {}),
    "register-201": (
        "POST",
        "/v1/users/",
        {"json": {"email": "h@example.com", "password": PASSWORD}},
    ),
    "register-400": ("POST", "/v1/users/", {"json": {"email": "h@example.com", "password": "x"}}),
    "register-422": ("POST", "/v1/users/", {"json": {}}),
    "login-400": (
        "POST",
        "/v1/users/login",
        {"json": {"email": "n@example.com", "password": PASSWORD}},
    ),
    "login-415": ("POST", "/v1/users/login", {"content": b"x"}),
    "me-401": ("GET", "/v1/users/me", {}),
    "unknown-404": ("GET", "/v1/nothing-here", {}),
    "method-405": ("PUT", "/v1/users/me", {"json": {}}),
}


@pytest.mark.parametrize(("method", "url", "kwargs"), REQUESTS.values(), ids=REQUESTS.keys())
async def test_api_responses_carry_security_headers(
    client: AsyncClient, method: str, url: str, kwargs: dict[str, Any]
) -> None:
    response = await client.request(method, url, **kwargs)

    assert response.status_code < 500
    assert_security_headers(response)


async def test_login_and_me_responses_carry_security_headers(
    client: AsyncClient, user_token: str
) -> None:
    login = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    me = await client.get("/v1/users/me", headers=bearer(user_token))

    assert (login.status_code, me.status_code) == (200, 200)
    assert_security_headers(login)
    assert_security_headers(me)


async def test_chunked_body_over_the_limit_gets_security_headers(client: AsyncClient) -> None:
    async def body() -> Any:
        for _ in range(100):
            yield b"x" * 16384

    response = await client.post(
        "/v1/users/", content=body(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert_security_headers(response)


async def test_declared_body_over_the_limit_gets_security_headers(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/users/", content=b"x" * (1024 * 1024), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
    assert_security_headers(response)


async def test_hsts_is_sent_in_production_only(
    client: AsyncClient, client_for: Callable[..., Any]
) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as production:
        secured = await production.get("/healthz")

    assert secured.headers["strict-transport-security"].startswith("max-age=")
    max_age = int(secured.headers["strict-transport-security"].split("=")[1].split(";")[0])
    assert max_age >= 180 * 24 * 3600
    assert "strict-transport-security" not in (await client.get("/healthz")).headers


async def test_api_docs_are_served_in_development_and_hidden_in_production(
    client: AsyncClient, client_for: Callable[..., Any]
) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as production:
        hidden = await production.get("/docs", headers={"Accept": "application/json"})

    shown = await client.get("/docs")
    assert shown.status_code == 200
    assert "swagger" in shown.text.lower()
    assert shown.headers["x-frame-options"] == "DENY"
    assert hidden.status_code == 404


@pytest.mark.parametrize(("size", "status"), [(1500, 422), (2048, 422), (2049, 413)])
async def test_body_limit_follows_max_body_bytes(
    client_for: Callable[..., Any], size: int, status: int
) -> None:
    content = b'{"pad": "' + b"x" * (size - 11) + b'"}'
    assert len(content) == size

    async with client_for(max_body_bytes=2048) as client:
        response = await client.post(
            "/v1/users/", content=content, headers={"Content-Type": "application/json"}
        )

    assert response.status_code == status
    if status == 413:
        assert response.json()["code"] == "REQUEST_TOO_LARGE"


async def test_small_body_under_default_limit_is_processed(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD, "pad": "x" * 30_000}
    )

    assert response.status_code == 201


async def test_cors_allows_configured_origin_only(client_for: Callable[..., Any]) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
    }

    async with client_for(cors_origins=["https://app.example"]) as client:
        allowed = await client.options(
            "/v1/users/login", headers={"Origin": "https://app.example", **preflight}
        )
        refused = await client.options(
            "/v1/users/login", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get("/healthz", headers={"Origin": "https://app.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert refused.headers.get("access-control-allow-origin") is None
    assert (refused.status_code, refused.json()["code"]) == (400, "CORS_REQUEST_REFUSED")
    assert_security_headers(refused)
    assert simple.headers["access-control-allow-origin"] == "https://app.example"


async def test_without_cors_origins_no_cors_headers_are_sent(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"Origin": "https://app.example"})

    assert "access-control-allow-origin" not in response.headers


async def test_form_login_response_is_marked_no_store(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        "/v1/users/login", data={"username": "ann@example.com", "password": PASSWORD}
    )

    assert response.headers["cache-control"] == "no-store"


async def test_answers_to_signed_in_requests_are_never_stored(
    client: AsyncClient, user_token: str
) -> None:
    for path in ("/v1/users/me", "/v1/users/me/sessions", "/v1/users/me/events"):
        response = await client.get(path, headers=bearer(user_token))
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    refused = await client.get("/v1/users/me", headers=bearer("not-a-token"))
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"


async def test_anonymous_answers_keep_their_own_caching(client: AsyncClient) -> None:
    response = await client.get("/healthz")

    assert "no-store" not in response.headers.get("cache-control", "")


async def test_chunked_login_body_over_the_limit_is_413_before_any_hashing(
    client: AsyncClient,
) -> None:
    async def body() -> Any:
        yield b'{"email": "ann@example.com", "password": "'
        for _ in range(100):
            yield b"x" * 16384
        yield b'"}'

    response = await client.post(
        "/v1/users/login", content=body(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize("path", ["/docsx", "/redoc-anything", "/docs.html"])
async def test_pages_outside_the_api_docs_keep_the_strict_csp(
    client: AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})

    assert response.status_code < 500
    assert_security_headers(response)


async def test_production_keeps_the_strict_csp_on_the_disabled_docs_paths(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as production:
        response = await production.get("/docs", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert_security_headers(response)


async def test_more_headers_than_max_header_count_get_431(client: AsyncClient) -> None:
    headers = [(f"X-N{n}", "1") for n in range(150)]

    response = await client.get("/healthz", headers=headers)

    assert response.status_code == 431
    assert response.json()["code"] == "REQUEST_HEADERS_TOO_LARGE"
    assert_security_headers(response)


async def test_headers_over_max_header_bytes_get_431(client: AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Big": "a" * 20_000})

    assert response.status_code == 431
    assert response.json()["code"] == "REQUEST_HEADERS_TOO_LARGE"


async def test_no_response_names_the_server_software(client: AsyncClient) -> None:
    responses = [await client.get("/healthz"), await client.get("/v1/nothing-here")]

    assert all("server" not in response.headers for response in responses)


async def test_production_hides_the_openapi_document(client_for: Callable[..., Any]) -> None:
    async with client_for(app_env="production", bcrypt_rounds=10) as production:
        response = await production.get("/openapi.json")

    assert response.status_code == 404
