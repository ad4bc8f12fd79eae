"""Every malformed request to two-step sign-in is a clear 4xx JSON error, never a 5xx."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import bearer, login, register
from tests.plugins.totp.conftest import enrolled_user, password_step, second_step

MFA = "/v1/users/login/mfa"


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "123456"},  # no mfa_token
        {"mfa_token": "TOKEN"},  # neither code nor recovery code
        {"mfa_token": "TOKEN", "code": "12345a"},  # not digits
        {"mfa_token": "TOKEN", "code": "1234567"},  # seven digits
        {"mfa_token": "TOKEN", "code": "12345"},  # five
        {"mfa_token": "TOKEN", "code": 123456},  # a number, not a string
        {"mfa_token": "TOKEN", "code": "123456", "recovery_code": "abcde-fghjk"},  # both
        {"mfa_token": "TOKEN", "recovery_code": ""},
        {"mfa_token": "", "code": "123456"},
        {"mfa_token": "TOKEN", "code": "123456", "password": "extra"},
    ],
)
async def test_malformed_second_steps_are_422(client: AsyncClient, body: dict[str, Any]) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    filled = {k: held["mfa_token"] if v == "TOKEN" else v for k, v in body.items()}

    response = await client.post(MFA, json=filled)

    assert_error(response, 422, "VALIDATION_ERROR")
    # A malformed request doesn't count against the token: the right code still works.
    ok = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[0])
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"mfa_token": "TOKEN", "code": "12345"}, "code", "6"),
        ({"mfa_token": "TOKEN", "code": "1234567"}, "code", "6"),
        ({"mfa_token": "TOKEN", "code": "12a456"}, "code", "not allowed"),
        ({"code": "123456"}, "mfa_token", "required"),
        ({"mfa_token": "TOKEN"}, "body", "recovery_code"),
        ({"mfa_token": "TOKEN", "code": "123456", "recovery_code": "abcde-fghjk"}, "body", "code"),
        ({"mfa_token": "TOKEN", "code": "123456", "password": "extra"}, "password", "not"),
    ],
)
async def test_a_malformed_second_step_names_only_the_field_at_fault(
    client: AsyncClient, body: dict[str, Any], field: str, words: str
) -> None:
    """One error on the field the caller got wrong, by its own name: not the other way
    of sending the step (recovery_code "required" next to a 5-digit code) nor names of
    the server's classes."""
    filled = {k: "x" * 43 if v == "TOKEN" else v for k, v in body.items()}

    response = await client.post(MFA, json=filled)

    assert_error(response, 422, "VALIDATION_ERROR")
    [error] = response.json()["errors"]
    assert error["field"] == field and words in error["message"]


async def test_not_json_is_a_4xx(client: AsyncClient) -> None:
    response = await client.post(MFA, content=b"mfa_token=x&code=123456")

    assert 400 <= response.status_code < 500
    assert "code" in response.json()


async def test_an_access_token_is_not_an_mfa_token(client: AsyncClient) -> None:
    await register(client, "bob@example.com")
    access = await login(client, "bob@example.com")

    response = await second_step(client, access, code="123456")

    assert_error(response, 401, "TOTP_MFA_TOKEN_INVALID")


async def test_an_mfa_token_is_not_an_access_token(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)

    me = await client.get("/v1/users/me", headers=bearer(held["mfa_token"]))
    mfa = await client.get("/v1/mfa", headers=bearer(held["mfa_token"]))

    assert me.status_code == 401 and mfa.status_code == 401


async def test_an_unknown_mfa_token_is_401(client: AsyncClient) -> None:
    response = await second_step(client, "x" * 43, code="123456")

    assert_error(response, 401, "TOTP_MFA_TOKEN_INVALID")


@pytest.mark.parametrize("recovery_code", ["not a code", "abcde-fghj", "ABCDE-FGHJKL", "é" * 10])
async def test_a_recovery_code_that_cant_be_one_is_a_wrong_code(
    client: AsyncClient, recovery_code: str
) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)

    response = await second_step(client, held["mfa_token"], recovery_code=recovery_code)

    assert_error(response, 401, "TOTP_CODE_INVALID")


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12 3456", "abcdef", None])
async def test_malformed_activation_codes_are_422(client: AsyncClient, code: str | None) -> None:
    await register(client, "bob@example.com")
    token = await login(client, "bob@example.com")

    response = await client.post(
        "/v1/mfa/totp/activate", json={"code": code}, headers=bearer(token)
    )

    assert_error(response, 422, "VALIDATION_ERROR")


async def test_a_password_that_is_not_a_string_is_422(client: AsyncClient) -> None:
    await register(client, "bob@example.com")
    token = await login(client, "bob@example.com")

    enroll = await client.post(
        "/v1/mfa/totp/enroll", json={"current_password": 12}, headers=bearer(token)
    )
    disable = await client.request(
        "DELETE", "/v1/mfa/totp", json={"current_password": ""}, headers=bearer(token)
    )

    assert_error(enroll, 422, "VALIDATION_ERROR")
    assert_error(disable, 422, "VALIDATION_ERROR")


async def test_an_admin_path_with_a_bad_id_is_404(
    client: AsyncClient, superuser_token: str
) -> None:
    response = await client.get("/v1/users/not-a-uuid/mfa", headers=bearer(superuser_token))

    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
