"""POST /v1/users/ with bad input: every case is a clear 4xx, never a 5xx or an echo."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import login, register

REGISTER = "/v1/users/"


async def _user_count(db_engine: AsyncEngine) -> int:
    async with db_engine.connect() as connection:
        count: int = await connection.scalar(text("SELECT count(*) FROM users"))
    return count


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("é" * 36 + "a", "72 bytes"),
        ("😀" * 19, "72 bytes"),  # 19 characters, 76 bytes
        (" " * 12, "spaces"),
        ("ann@example.com!", "email"),
        ("My ANN@EXAMPLE.COM password", "email"),
    ],
    ids=[
        "73-bytes-accents",
        "emoji-76-bytes",
        "only-spaces",
        "contains-email",
        "contains-email-other-case",
    ],
)
async def test_register_with_policy_breaking_password_is_400_with_the_reason(
    client: AsyncClient, db_engine: AsyncEngine, password: str, reason: str
) -> None:
    response = await client.post(REGISTER, json={"email": "ann@example.com", "password": password})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "REGISTER_INVALID_PASSWORD"
    assert reason in body["message"]
    assert await _user_count(db_engine) == 0


def _unguessable(first: int, count: int) -> str:
    """`count` different characters from code point `first` on, in no guessable order."""
    return "".join(chr(first + (i * 7) % count) for i in range(count))


@pytest.mark.parametrize(
    "password", ["", "1234567", "x" * 73], ids=["empty", "7-chars", "73-characters"]
)
async def test_register_with_password_outside_the_schemas_length_is_422(
    client: AsyncClient, db_engine: AsyncEngine, password: str
) -> None:
    response = await client.post(REGISTER, json={"email": "ann@example.com", "password": password})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["password"]
    assert await _user_count(db_engine) == 0


@pytest.mark.parametrize(
    "password",
    [
        "Xk9#mQ2v",
        _unguessable(0x430, 36),  # Cyrillic, 2 bytes each
        _unguessable(0x4E00, 24),  # CJK, 3 bytes each
        _unguessable(0x21, 72),  # ASCII punctuation, digits and letters
        _unguessable(0x1F600, 18),  # emoji, 4 bytes each
    ],
    ids=["8-chars", "72-bytes-2-byte", "72-bytes-3-byte", "72-ascii", "72-bytes-emoji"],
)
async def test_register_accepts_passwords_from_8_characters_to_72_bytes_and_they_log_in(
    client: AsyncClient, password: str
) -> None:
    await register(client, "ann@example.com", password)

    token = await login(client, "ann@example.com", password)

    assert token


async def test_register_body_over_the_limit_is_413(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    padding = "x" * (1024 * 1024)

    response = await client.post(
        REGISTER, json={"email": "ann@example.com", "password": "a long password", "pad": padding}
    )

    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
    assert await _user_count(db_engine) == 0


async def test_register_chunked_body_over_the_limit_is_413(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"email": "ann@example.com", "password": "a long password", "pad": "'
        for _ in range(64):
            yield b"x" * 16384
        yield b'"}'

    response = await client.post(
        REGISTER, content=body(), headers={"Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"
    assert await _user_count(db_engine) == 0


async def test_register_chunked_body_under_the_limit_is_accepted(client: AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"email": "ann@example.com",'
        yield b' "password": "a long password"}'

    response = await client.post(
        REGISTER, content=body(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201


async def test_register_with_a_non_numeric_content_length_is_refused(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    response = await client.post(
        REGISTER,
        content=b'{"email": "ann@example.com", "password": "a long password"}',
        headers={"Content-Type": "application/json", "Content-Length": "abc"},
    )

    assert 400 <= response.status_code < 500
    assert response.json()["code"] in {"REQUEST_TOO_LARGE", "VALIDATION_ERROR"}
    assert await _user_count(db_engine) == 0


@pytest.mark.parametrize(
    "content",
    [b"{", b"not json", b'{"email": "ann@example.com", "password": }', b"\xff\xfe"],
    ids=["truncated", "text", "broken-value", "not-utf8"],
)
async def test_register_with_malformed_json_is_422(client: AsyncClient, content: bytes) -> None:
    response = await client.post(
        REGISTER, content=content, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "ann@example.com", "password": 123}, {"password"}),
        ({"email": ["x"], "password": "a long password"}, {"email"}),
        ({"email": None, "password": None}, {"email", "password"}),
        ({"email": {"a": 1}, "password": True}, {"email", "password"}),
        ([], {"body"}),
        ("ann@example.com", {"body"}),
    ],
    ids=["password-int", "email-list", "nulls", "object-and-bool", "array", "string"],
)
async def test_register_with_wrong_types_is_422_naming_the_fields(
    client: AsyncClient, body: Any, fields: set[str]
) -> None:
    response = await client.post(REGISTER, json=body)

    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == fields


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"json": {}}, {"json": {"password": "a long password"}}],
    ids=["no-body", "empty-object", "no-email"],
)
async def test_register_with_missing_body_or_fields_is_422(
    client: AsyncClient, kwargs: dict[str, Any]
) -> None:
    response = await client.post(REGISTER, **kwargs)

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "email",
    [
        "ann",
        "ann@",
        "@example.com",
        "ann@@example.com",
        "ann example@example.com",
        "",
        "a" * 310 + "@example.com",
    ],
    ids=["no-at", "no-domain", "no-local", "double-at", "space", "empty", "too-long"],
)
async def test_register_with_malformed_email_is_422_naming_the_email_field(
    client: AsyncClient, email: str
) -> None:
    response = await client.post(REGISTER, json={"email": email, "password": "a long password"})

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["email"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "Tr0ub4dor&3-secret"},
        {"email": ["x"], "password": "Tr0ub4dor&3-secret"},
        {"password": "Tr0ub4dor&3-secret"},
        {"email": "ann@example.com", "password": ["Tr0ub4dor&3-secret"]},
        {"email": "ann@example.com", "password": "Tr0ub4dor&3-secret" * 60},
        {"email": "ann@example.com", "password": {"p": "Tr0ub4dor&3-secret"}},
    ],
    ids=[
        "bad-email",
        "email-list",
        "no-email",
        "password-list",
        "password-too-long",
        "password-object",
    ],
)
async def test_register_422_never_echoes_the_password(client: AsyncClient, body: Any) -> None:
    response = await client.post(REGISTER, json=body)

    assert response.status_code == 422
    assert "Tr0ub4dor" not in response.text


async def test_register_form_body_is_422_not_500(client: AsyncClient) -> None:
    response = await client.post(
        REGISTER, data={"email": "ann@example.com", "password": "a long password"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
