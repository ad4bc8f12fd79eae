"""POST /v1/oauth/revoke (RFC 7009): either token ends its session, as logout does."""

import pytest
from httpx import AsyncClient

from tests.api.v1.oauth.conftest import REVOKE_URL, TOKEN_URL, oauth_error
from tests.conftest import PASSWORD, bearer, register


async def sign_in(client: AsyncClient) -> dict[str, str]:
    form = {"grant_type": "password", "username": "ann@example.com", "password": PASSWORD}
    response = await client.post(TOKEN_URL, data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


@pytest.mark.parametrize(
    ("kind", "hint"),
    [
        ("refresh_token", None),
        ("refresh_token", "refresh_token"),
        ("refresh_token", "access_token"),  # a wrong hint does no harm
        ("access_token", None),
        ("access_token", "access_token"),
        ("access_token", "refresh_token"),
        ("access_token", "id_token"),  # nor one we don't know
    ],
)
async def test_either_token_ends_the_session_whatever_the_hint(
    client: AsyncClient, kind: str, hint: str | None
) -> None:
    await register(client, "ann@example.com")
    tokens = await sign_in(client)
    form = {"token": tokens[kind], **({"token_type_hint": hint} if hint else {})}

    response = await client.post(REVOKE_URL, data=form)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    refreshed = await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert oauth_error(refreshed)["error"] == "invalid_grant"


async def test_revocation_is_the_logout_event(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    keep = await sign_in(client)
    ended = await sign_in(client)

    await client.post(REVOKE_URL, data={"token": ended["refresh_token"]})
    await client.post(REVOKE_URL, data={"token": ended["refresh_token"]})  # already ended

    events = await client.get("/v1/users/me/events", headers=bearer(keep["access_token"]))
    logouts = [e for e in events.json()["items"] if e["type"] == "logout"]
    assert len(logouts) == 1  # once: a second revocation ends nothing
    assert (
        await client.get("/v1/users/me", headers=bearer(keep["access_token"]))
    ).status_code == 200


@pytest.mark.parametrize(
    "token", ["unknown", "x" * 43, "x" * 5000, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "\u00e9"]
)
async def test_unknown_tokens_get_200(client: AsyncClient, token: str) -> None:
    response = await client.post(REVOKE_URL, data={"token": token})

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"token": "abc"}'),
        ("application/x-www-form-urlencoded", b""),
        ("application/x-www-form-urlencoded", b"token_type_hint=refresh_token"),
        ("application/x-www-form-urlencoded", b"token=a&token=b"),
        ("application/x-www-form-urlencoded", b"token=%ff"),
    ],
)
async def test_a_missing_repeated_or_unreadable_token_is_invalid_request(
    client: AsyncClient, content_type: str, body: bytes
) -> None:
    response = await client.post(REVOKE_URL, content=body, headers={"Content-Type": content_type})

    assert oauth_error(response)["error"] == "invalid_request"


async def test_a_client_secret_is_invalid_client(client: AsyncClient) -> None:
    response = await client.post(REVOKE_URL, data={"token": "abc", "client_secret": "s3cret"})

    assert oauth_error(response, 401)["error"] == "invalid_client"
