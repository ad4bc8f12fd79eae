"""A standard client library signs in, refreshes and signs out with configuration only."""

import pytest
from httpx import AsyncClient

from tests.api.v1.oauth.conftest import REVOKE_URL, TOKEN_URL
from tests.conftest import PASSWORD, bearer, register
from tests.oauth_client import AsyncOAuth2Client, OAuthError


async def test_password_grant_signs_in_and_the_token_reads_me(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    await register(client, "ann@example.com")

    token = await oauth.fetch_token(TOKEN_URL, username="ann@example.com", password=PASSWORD)
    me = await oauth.get("/v1/users/me")

    assert token["token_type"] == "bearer" and token["refresh_token"]
    assert 0 < token["expires_in"] <= 3600
    assert me.status_code == 200 and me.json()["email"] == "ann@example.com"
    sessions = await client.get("/v1/users/me/sessions", headers=bearer(token["access_token"]))
    assert [s["method"] for s in sessions.json()] == ["password"]


async def test_refresh_rotates_the_pair_and_the_old_refresh_token_dies(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    await register(client, "ann@example.com")
    first = await oauth.fetch_token(TOKEN_URL, username="ann@example.com", password=PASSWORD)

    second = await oauth.refresh_token(TOKEN_URL, refresh_token=first["refresh_token"])

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (await oauth.get("/v1/users/me")).status_code == 200
    # Past the grace window a rotated token is reuse: the session ends (theft detection).
    raw = await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": "x" * 43}
    )
    assert raw.json()["error"] == "invalid_grant"


async def test_revoking_the_refresh_token_ends_the_session_and_its_access_token(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    await register(client, "ann@example.com")
    token = await oauth.fetch_token(TOKEN_URL, username="ann@example.com", password=PASSWORD)

    revoked = await oauth.revoke_token(
        REVOKE_URL, token=token["refresh_token"], token_type_hint="refresh_token"
    )

    assert revoked.status_code == 200
    me = await client.get("/v1/users/me", headers=bearer(token["access_token"]))
    assert me.status_code == 401
    with pytest.raises(OAuthError) as refused:
        await oauth.refresh_token(TOKEN_URL, refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"


async def test_revoking_the_access_token_ends_its_session(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    await register(client, "ann@example.com")
    token = await oauth.fetch_token(TOKEN_URL, username="ann@example.com", password=PASSWORD)

    revoked = await oauth.revoke_token(REVOKE_URL, token=token["access_token"])

    assert revoked.status_code == 200
    me = await client.get("/v1/users/me", headers=bearer(token["access_token"]))
    assert me.status_code == 401


async def test_a_wrong_password_raises_the_librarys_oauth_error(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    await register(client, "ann@example.com")

    with pytest.raises(OAuthError) as failed:
        await oauth.fetch_token(TOKEN_URL, username="ann@example.com", password="wrong password")

    assert failed.value.error == "invalid_grant"
    assert failed.value.description == "Incorrect email or password."
    assert not oauth.token


async def test_the_oauth2_form_login_route_fails_as_an_oauth_error_too(
    oauth: AsyncOAuth2Client, client: AsyncClient
) -> None:
    """The Swagger "Authorize" path, POST /v1/users/login with the form: a library
    pointed at it sees a failure, not an error body taken for a token."""
    await register(client, "ann@example.com")

    with pytest.raises(OAuthError) as failed:
        await oauth.fetch_token(
            "/v1/users/login", username="ann@example.com", password="wrong password"
        )
    token = await oauth.fetch_token(
        "/v1/users/login", username="ann@example.com", password=PASSWORD
    )

    assert failed.value.error == "invalid_grant"
    assert token["access_token"]
