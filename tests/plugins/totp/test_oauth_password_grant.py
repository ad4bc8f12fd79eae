"""The OAuth 2.0 password grant of an account with two-step on: no token, ever."""

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.v1.oauth.conftest import TOKEN_URL, oauth_error
from tests.conftest import PASSWORD, register
from tests.oauth_client import AsyncOAuth2Client, OAuthError
from tests.plugins.totp.conftest import enrolled_user


async def pending_logins(db_engine: AsyncEngine) -> int:
    async with db_engine.connect() as connection:
        count: int = await connection.scalar(text("SELECT count(*) FROM totp_challenges"))
    return count


async def test_the_right_password_is_invalid_grant_saying_a_second_step_is_needed(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)

    response = await client.post(
        TOKEN_URL, data={"grant_type": "password", "username": ann.email, "password": PASSWORD}
    )

    body = oauth_error(response)
    assert (body["error"], body["code"]) == ("invalid_grant", "LOGIN_SECOND_STEP_REQUIRED")
    assert "two-step" in body["error_description"]
    assert "access_token" not in body and "mfa_token" not in body
    assert await pending_logins(db_engine) == 0  # the held login rolled back with the answer


async def test_a_wrong_password_answers_as_for_an_account_without_two_step(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)
    await register(client, "bob@example.com")

    answers = [
        await client.post(
            TOKEN_URL, data={"grant_type": "password", "username": email, "password": "wrong!"}
        )
        for email in (ann.email, "bob@example.com")
    ]

    assert oauth_error(answers[0]) == oauth_error(answers[1])


async def test_a_client_library_raises_and_holds_no_token(
    totp_app: FastAPI, client: AsyncClient
) -> None:
    ann = await enrolled_user(client)
    async with AsyncOAuth2Client(
        client_id="app", transport=ASGITransport(app=totp_app), base_url="http://testserver"
    ) as library:
        with pytest.raises(OAuthError) as refused:
            await library.fetch_token(TOKEN_URL, username=ann.email, password=PASSWORD)

        assert refused.value.error == "invalid_grant"
        assert not library.token


async def test_the_login_form_says_so_with_the_oauth_fields_too(client: AsyncClient) -> None:
    ann = await enrolled_user(client)

    response = await client.post(
        "/v1/users/login", data={"username": ann.email, "password": PASSWORD}
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["code"]) == ("invalid_grant", "LOGIN_SECOND_STEP_REQUIRED")
