"""POST /v1/tokens/introspect (RFC 7662): live tokens are active, ended sessions are not
(at once), and only a live service key may ask."""

import dataclasses
import secrets
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.security import create_access_token
from tests.conftest import PASSWORD, bearer, login, register

NEW_PASSWORD = "a fresh new password"


@pytest.fixture
async def service_key(client: AsyncClient, superuser_token: str) -> str:
    response = await client.post(
        "/v1/service-keys", json={"name": "billing-api"}, headers=bearer(superuser_token)
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


async def introspect(client: AsyncClient, key: str | None, token: str, **form: str) -> Response:
    headers = bearer(key) if key is not None else {}
    return await client.post(
        "/v1/tokens/introspect", data={"token": token, **form}, headers=headers
    )


async def answer(client: AsyncClient, key: str, token: str) -> dict[str, Any]:
    response = await introspect(client, key, token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def test_a_live_access_token_is_active_with_its_claims_and_roles(
    client: AsyncClient, service_key: str
) -> None:
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    claims = claims_of(token)

    body = await answer(client, service_key, token)

    assert body == {
        "active": True,
        "token_type": "access_token",
        "sub": user["id"],
        "sid": claims["sid"],
        "exp": claims["exp"],
        "iat": claims["iat"],
        "iss": claims["iss"],
        "aud": claims["aud"],
        "jti": claims["jti"],
        "roles": [],
    }


async def test_a_role_change_shows_in_introspection_at_once(
    client: AsyncClient, service_key: str, superuser_token: str
) -> None:
    user = await register(client, "ann@example.com")
    signed_in = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    tokens = signed_in.json()
    root = bearer(superuser_token)
    assert (await client.post("/v1/roles", json={"name": "editor"}, headers=root)).is_success

    given = await client.put(f"/v1/users/{user['id']}/roles", json=["editor"], headers=root)

    assert given.status_code == 200, given.text
    # The token still says what it said; introspection says what holds now.
    assert claims_of(tokens["access_token"])["roles"] == []
    assert (await answer(client, service_key, tokens["access_token"]))["roles"] == ["editor"]
    assert (await answer(client, service_key, tokens["refresh_token"]))["roles"] == ["editor"]
    assert (await client.delete("/v1/roles/editor", headers=root)).status_code == 204
    assert (await answer(client, service_key, tokens["access_token"]))["roles"] == []


async def test_a_token_is_inactive_right_after_logout(
    client: AsyncClient, service_key: str
) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    assert (await answer(client, service_key, token))["active"] is True

    assert (await client.post("/v1/users/logout", headers=bearer(token))).status_code == 204

    assert await answer(client, service_key, token) == {"active": False}


async def test_a_password_change_makes_the_other_sessions_tokens_inactive(
    client: AsyncClient, service_key: str
) -> None:
    await register(client, "ann@example.com")
    changing = await login(client, "ann@example.com")
    other = await login(client, "ann@example.com")

    changed = await client.patch(
        "/v1/users/me",
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        headers=bearer(changing),
    )
    assert changed.status_code == 200, changed.text

    assert await answer(client, service_key, other) == {"active": False}
    # The session that made the change goes on, as it does for every other request.
    assert (await answer(client, service_key, changing))["active"] is True


async def test_tokens_of_a_deactivated_or_deleted_account_are_inactive(
    client: AsyncClient, service_key: str, superuser_token: str
) -> None:
    ann = await register(client, "ann@example.com")
    bob = await register(client, "bob@example.com")
    ann_token = await login(client, "ann@example.com")
    bob_token = await login(client, "bob@example.com")

    deactivated = await client.patch(
        f"/v1/users/{ann['id']}", json={"is_active": False}, headers=bearer(superuser_token)
    )
    deleted = await client.delete(f"/v1/users/{bob['id']}", headers=bearer(superuser_token))
    assert (deactivated.status_code, deleted.status_code) == (200, 204)

    assert await answer(client, service_key, ann_token) == {"active": False}
    assert await answer(client, service_key, bob_token) == {"active": False}


async def test_an_expired_token_of_a_live_session_is_inactive(
    client: AsyncClient, app: FastAPI, service_key: str
) -> None:
    await register(client, "ann@example.com")
    live = await login(client, "ann@example.com")
    claims = claims_of(live)
    # Signed with the service's own key, for the same live session, but a minute past exp.
    expired_config = dataclasses.replace(app.state.context.tokens, lifetime_seconds=-60)
    expired = create_access_token(expired_config, subject=claims["sub"], session_id=claims["sid"])

    assert await answer(client, service_key, expired) == {"active": False}
    assert (await answer(client, service_key, live))["active"] is True


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a.b.c",
        "sk_not-a-token",
        "x" * 9000,
        jwt.encode({"sub": "someone"}, "another-key-another-key-another-key", algorithm="HS256"),
    ],
    ids=["word", "three-dots", "service-key-like", "huge", "foreign-signature"],
)
async def test_anything_that_is_not_a_live_token_is_inactive(
    client: AsyncClient, service_key: str, token: str
) -> None:
    assert await answer(client, service_key, token) == {"active": False}


async def test_a_token_signed_with_another_key_is_inactive(
    client: AsyncClient, app: FastAPI, service_key: str
) -> None:
    await register(client, "ann@example.com")
    claims = claims_of(await login(client, "ann@example.com"))
    # keys=None: signed with the new key alone (HS256), as no key of ours is.
    forged_config = dataclasses.replace(
        app.state.context.tokens, key=secrets.token_hex(32), keys=None
    )
    forged = create_access_token(forged_config, subject=claims["sub"], session_id=claims["sid"])

    assert await answer(client, service_key, forged) == {"active": False}


async def test_a_refresh_token_is_active_until_rotated_and_after_logout_inactive(
    client: AsyncClient, service_key: str
) -> None:
    user = await register(client, "ann@example.com")
    signed_in = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    first = signed_in.json()["refresh_token"]

    body = await answer(client, service_key, first)
    assert body["active"] is True
    assert (body["token_type"], body["sub"]) == ("refresh_token", user["id"])
    assert body["sid"] == claims_of(signed_in.json()["access_token"])["sid"]
    # Looking is not using: the token still refreshes, once.
    refreshed = await client.post("/v1/users/refresh", json={"refresh_token": first})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()["refresh_token"]

    assert await answer(client, service_key, first) == {"active": False}
    assert (await answer(client, service_key, second))["active"] is True
    logout = await client.post(
        "/v1/users/logout",
        json={"refresh_token": second},
        headers=bearer(refreshed.json()["access_token"]),
    )
    assert logout.status_code == 204
    assert await answer(client, service_key, second) == {"active": False}


async def test_the_hint_does_not_change_the_answer(client: AsyncClient, service_key: str) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    response = await introspect(client, service_key, token, token_type_hint="refresh_token")

    assert response.json()["active"] is True


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer sk_" + "A" * 43, "Basic c2s6eA==", "Bearer " + "sk_" + "x" * 500],
    ids=["none", "empty", "unknown-key", "basic", "too-long"],
)
async def test_introspection_needs_a_service_key(
    client: AsyncClient, service_key: str, authorization: str | None
) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.post("/v1/tokens/introspect", data={"token": token}, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "SERVICE_KEY_INVALID"
    assert response.headers["www-authenticate"].startswith('Bearer realm="introspection"')


async def test_a_users_access_token_is_not_a_service_key(
    client: AsyncClient, superuser_token: str
) -> None:
    response = await introspect(client, superuser_token, superuser_token)

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_revoked_key_is_refused_at_once(client: AsyncClient, superuser_token: str) -> None:
    created = await client.post(
        "/v1/service-keys", json={"name": "reports"}, headers=bearer(superuser_token)
    )
    key, key_id = created.json()["key"], created.json()["id"]
    assert (await introspect(client, key, superuser_token)).status_code == 200

    revoked = await client.delete(f"/v1/service-keys/{key_id}", headers=bearer(superuser_token))

    assert revoked.status_code == 204
    assert (await introspect(client, key, superuser_token)).status_code == 401


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"token": "abc"}'),
        ("application/x-www-form-urlencoded", b""),
        ("application/x-www-form-urlencoded", b"token="),
        ("application/x-www-form-urlencoded", b"token_type_hint=access_token"),
        ("application/x-www-form-urlencoded", b"token=a&token=b"),
        ("application/x-www-form-urlencoded", b"token=a&token_type_hint=x&token_type_hint=y"),
        ("application/x-www-form-urlencoded", b"token=%ff%fe"),
        ("application/x-www-form-urlencoded", b"token=\xff\xfe"),
        ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 20) + b"&token=x"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("text/plain", b"token=abc"),
        (None, b"token=abc"),
    ],
)
async def test_a_malformed_request_is_a_400_invalid_request(
    client: AsyncClient, service_key: str, content_type: str | None, body: bytes
) -> None:
    headers = bearer(service_key)
    if content_type:
        headers["Content-Type"] = content_type

    response = await client.post("/v1/tokens/introspect", content=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.json() == {
        "code": "INTROSPECTION_INVALID_REQUEST",
        "message": "Send one `token` in an application/x-www-form-urlencoded body.",
        "error": "invalid_request",
    }


async def test_wrong_service_keys_are_rate_limited_per_address(client_for: Any) -> None:
    async with client_for(
        rate_limits_enabled=True, rate_limit_service_key_failures="2/minute"
    ) as limited:
        statuses = [(await introspect(limited, "sk_wrong", "token")).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


async def test_a_key_revoked_on_one_instance_is_refused_by_another_at_once(
    client: AsyncClient, client_for: Any, superuser_token: str, service_key: str
) -> None:
    [listed] = (await client.get("/v1/service-keys", headers=bearer(superuser_token))).json()
    async with client_for() as other_instance:
        before = await introspect(other_instance, service_key, "token")

        revoked = await client.delete(
            f"/v1/service-keys/{listed['id']}", headers=bearer(superuser_token)
        )
        after = await introspect(other_instance, service_key, "token")

    assert (before.status_code, revoked.status_code, after.status_code) == (200, 204, 401)
