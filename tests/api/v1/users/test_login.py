"""POST /v1/users/login: JSON and the OAuth2 form, and failures that reveal nothing."""

import gc
import time
import unicodedata
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, login, register

LOGIN = "/v1/users/login"


def _comparable(response: Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Everything a client can observe, except the clock and the request id (new each time)."""
    headers = sorted(
        (name.lower(), value)
        for name, value in response.headers.multi_items()
        if name.lower() not in {"date", "x-request-id"}
    )
    return response.status_code, response.content, headers


def _assert_token_response(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert response.headers["cache-control"] == "no-store"
    return body


async def _deactivate(client: AsyncClient, superuser_token: str, user_id: str) -> None:
    response = await client.patch(
        f"/v1/users/{user_id}", json={"is_active": False}, headers=bearer(superuser_token)
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False


async def test_login_with_json_returns_a_bearer_token_that_opens_me(client: AsyncClient) -> None:
    user = await register(client, "ann@example.com")

    response = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})

    body = _assert_token_response(response)
    me = await client.get("/v1/users/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


async def test_login_expires_in_matches_the_configured_token_lifetime(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(access_token_lifetime_seconds=123) as client:
        await register(client, "ann@example.com")

        response = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})

    assert _assert_token_response(response)["expires_in"] == 123


async def test_login_with_oauth2_form_returns_a_bearer_token(client: AsyncClient) -> None:
    user = await register(client, "ann@example.com")

    response = await client.post(LOGIN, data={"username": "ann@example.com", "password": PASSWORD})

    body = _assert_token_response(response)
    me = await client.get("/v1/users/me", headers=bearer(body["access_token"]))
    assert me.json()["id"] == user["id"]


async def test_login_with_multipart_form_returns_a_bearer_token(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        LOGIN, files={"username": (None, "ann@example.com"), "password": (None, PASSWORD)}
    )

    assert response.request.headers["content-type"].startswith("multipart/form-data")
    _assert_token_response(response)


async def test_login_accepts_json_content_type_with_charset(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        LOGIN,
        content=b'{"email": "ann@example.com", "password": "' + PASSWORD.encode() + b'"}',
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )

    _assert_token_response(response)


@pytest.mark.parametrize("typed", ["ANN@EXAMPLE.COM", "  Ann@Example.com  ", "\tann@example.COM\n"])
async def test_login_email_is_case_and_whitespace_insensitive(
    client: AsyncClient, typed: str
) -> None:
    await register(client, "ann@example.com")

    as_json = await client.post(LOGIN, json={"email": typed, "password": PASSWORD})
    as_form = await client.post(LOGIN, data={"username": typed, "password": PASSWORD})

    _assert_token_response(as_json)
    _assert_token_response(as_form)


async def test_login_with_wrong_password_is_bad_credentials(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": "x" + PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert response.json()["message"]
    assert "access_token" not in response.json()


async def test_login_password_is_case_sensitive(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        LOGIN, json={"email": "ann@example.com", "password": PASSWORD.upper()}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "LOGIN_BAD_CREDENTIALS"


async def test_login_with_unknown_email_matches_wrong_password(
    client: AsyncClient, superuser_token: str
) -> None:
    await register(client, "ann@example.com")
    inactive = await register(client, "bob@example.com")
    await _deactivate(client, superuser_token, inactive["id"])

    attempts = {
        "wrong password": {"email": "ann@example.com", "password": "not the password"},
        "unknown email": {"email": "nobody@example.com", "password": "not the password"},
        "unknown email, real password": {"email": "nobody@example.com", "password": PASSWORD},
        "inactive, right password": {"email": "bob@example.com", "password": PASSWORD},
        "inactive, wrong password": {"email": "bob@example.com", "password": "not the password"},
    }
    observed = {name: await client.post(LOGIN, json=body) for name, body in attempts.items()}

    reference = _comparable(observed["wrong password"])
    assert reference[0] == 400
    assert observed["wrong password"].json()["code"] == "LOGIN_BAD_CREDENTIALS"
    for name, response in observed.items():
        assert _comparable(response) == reference, name


async def test_login_failures_through_the_form_match_each_other(
    client: AsyncClient, superuser_token: str
) -> None:
    await register(client, "ann@example.com")
    inactive = await register(client, "bob@example.com")
    await _deactivate(client, superuser_token, inactive["id"])

    wrong = await client.post(LOGIN, data={"username": "ann@example.com", "password": "nope nope"})
    unknown = await client.post(
        LOGIN, data={"username": "zed@example.com", "password": "nope nope"}
    )
    disabled = await client.post(LOGIN, data={"username": "bob@example.com", "password": PASSWORD})

    assert wrong.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert _comparable(wrong) == _comparable(unknown) == _comparable(disabled)


@pytest.mark.parametrize("email", ["ann@example.com", "nobody@example.com"])
async def test_login_with_password_over_72_bytes_is_bad_credentials_not_500(
    client: AsyncClient, email: str
) -> None:
    await register(client, "ann@example.com")
    # The stored password plus more: bcrypt alone would ignore the tail and accept it.
    too_long = PASSWORD + "x" * (73 - len(PASSWORD))
    assert len(too_long.encode()) == 73

    response = await client.post(LOGIN, json={"email": email, "password": too_long})
    wrong = await client.post(LOGIN, json={"email": "ann@example.com", "password": "nope nope"})

    assert response.status_code == 400
    assert response.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert _comparable(response) == _comparable(wrong)


async def test_login_with_72_byte_password_prefix_of_a_longer_one_is_rejected(
    client: AsyncClient,
) -> None:
    password = "".join(chr(0x430 + (i * 7) % 32) for i in range(36))  # 36 Cyrillic: 72 bytes
    await register(client, "ann@example.com", password)

    exact = await client.post(LOGIN, json={"email": "ann@example.com", "password": password})
    longer = await client.post(LOGIN, json={"email": "ann@example.com", "password": password + "a"})

    _assert_token_response(exact)
    assert longer.status_code == 400
    assert longer.json()["code"] == "LOGIN_BAD_CREDENTIALS"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/xml"},
        {"Content-Type": "application/jsonx"},
        {},
    ],
    ids=["text-plain", "xml", "lookalike", "no-content-type"],
)
async def test_login_with_unsupported_content_type_is_415(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    await register(client, "ann@example.com")

    response = await client.post(
        LOGIN, content=f'{{"email":"ann@example.com","password":"{PASSWORD}"}}', headers=headers
    )

    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"json": {}}, {"email", "password"}),
        ({"json": {"email": "ann@example.com"}}, {"password"}),
        ({"json": {"password": PASSWORD}}, {"email"}),
        ({"data": {"username": "ann@example.com"}}, {"password"}),
        ({"data": {"password": PASSWORD}}, {"email"}),
    ],
    ids=["json-empty", "json-no-password", "json-no-email", "form-no-password", "form-no-username"],
)
async def test_login_with_missing_fields_is_422_naming_them(
    client: AsyncClient, kwargs: dict[str, Any], missing: set[str]
) -> None:
    response = await client.post(LOGIN, **kwargs)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert {error["field"] for error in body["errors"]} == missing


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"not json", b'{"email": "a@b.c", "password": }', b"[]", b"null"],
    ids=["empty", "truncated", "text", "broken-value", "array", "null"],
)
async def test_login_with_malformed_json_is_422(client: AsyncClient, content: bytes) -> None:
    response = await client.post(
        LOGIN, content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_login_with_wrong_types_is_422_without_echoing_the_password(
    client: AsyncClient,
) -> None:
    secret = "hunter2-is-my-secret"

    response = await client.post(LOGIN, json={"email": ["ann@example.com"], "password": [secret]})

    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"email", "password"}
    assert secret not in response.text


async def test_login_with_oversized_password_is_422_without_echoing_it(
    client: AsyncClient,
) -> None:
    secret = "s3cret-" * 200  # past the 1024-character bound on any password field

    response = await client.post(LOGIN, json={"email": "ann@example.com", "password": secret})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["password"]
    assert "s3cret-" not in response.text


async def test_login_with_cheaper_stored_hash_upgrades_it_to_the_current_cost(
    client: AsyncClient, client_for: Callable[..., Any], db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")  # hashed with 4 rounds

    async with client_for(bcrypt_rounds=5) as stronger:
        await login(stronger, "ann@example.com")

    async with db_engine.connect() as connection:
        stored = await connection.scalar(text("SELECT hashed_password FROM users"))
    assert stored.startswith("$2b$05$")
    await login(client, "ann@example.com")  # the upgraded hash still verifies


async def _login_seconds(client: AsyncClient, body: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await client.post(LOGIN, json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    return elapsed


async def test_login_with_unknown_email_does_the_same_hashing_work_as_wrong_password(
    client_for: Callable[..., Any],
) -> None:
    attempts = {
        "wrong password": {"email": "ann@example.com", "password": "not the password"},
        "unknown email": {"email": "nobody@example.com", "password": "not the password"},
        "over 72 bytes": {"email": "ann@example.com", "password": "x" * 80},
    }
    async with client_for(bcrypt_rounds=12, hash_concurrency=1) as client:
        await register(client, "ann@example.com")
        # Warm up: the first unknown-email login also makes the dummy hash.
        await _login_seconds(client, attempts["unknown email"])

        # Interleaved, so a busy spell on the machine slows every kind alike.
        seconds: dict[str, list[float]] = {name: [] for name in attempts}
        for _ in range(3):
            for name, body in attempts.items():
                seconds[name].append(await _login_seconds(client, body))

    # Best of three: noise only ever adds time. A 12-round bcrypt check takes a good
    # fraction of a second; an unknown email without hashing would take milliseconds.
    fastest = {name: min(durations) for name, durations in seconds.items()}
    assert fastest["wrong password"] > 0.05, seconds
    assert fastest["unknown email"] >= 0.5 * fastest["wrong password"], seconds
    assert fastest["over 72 bytes"] >= 0.5 * fastest["wrong password"], seconds


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("ann@bücher.example", id="unicode-domain"),
        pytest.param("ÅSA@Example.com", id="non-ascii-upper"),
        pytest.param(
            "ann@xn--bcher-kva.example",
            id="punycode-domain",
        ),
        pytest.param(
            unicodedata.normalize("NFD", "josé@example.com"),
            id="decomposed-accent",
        ),
    ],
)
async def test_login_with_the_exact_email_used_at_registration_works(
    client: AsyncClient, email: str
) -> None:
    await register(client, email)

    response = await client.post(LOGIN, json={"email": email, "password": PASSWORD})

    _assert_token_response(response)


@pytest.fixture
async def raw_client(client: AsyncClient, app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The running app, with a crash shown as the 500 a client would get (not raised)."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as raw:
        yield raw


@pytest.mark.parametrize(
    "stored_hash",
    ["!", "", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", "$2b$04$" + "!" * 53],
    ids=["locked-marker", "empty", "other-scheme", "corrupt-bcrypt"],
)
async def test_login_to_an_account_with_an_unusable_hash_is_bad_credentials(
    raw_client: AsyncClient, db_engine: AsyncEngine, stored_hash: str
) -> None:
    await register(raw_client, "ann@example.com")
    async with db_engine.begin() as connection:
        await connection.execute(text("UPDATE users SET hashed_password = :h"), {"h": stored_hash})

    response = await raw_client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
    unknown = await raw_client.post(LOGIN, json={"email": "zed@example.com", "password": PASSWORD})

    assert _comparable(response) == _comparable(unknown)


async def test_login_form_with_a_file_part_is_422_and_closes_the_upload(
    client: AsyncClient,
) -> None:
    body = (
        b'--x\r\nContent-Disposition: form-data; name="password"; filename="p.txt"\r\n\r\n'
        + PASSWORD.encode()
        + b'\r\n--x\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
        b"ann@example.com\r\n--x--\r\n"
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await client.post(
            LOGIN, content=body, headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        gc.collect()  # an unclosed upload reports itself when it is collected

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["password"]
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
