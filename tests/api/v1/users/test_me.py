"""GET /v1/users/me, and every way a bearer token can fail to identify an active user.

Forged tokens start from the claims of a real login token (whatever the server puts
in them) and change one thing, so each case fails for exactly one reason.
"""

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.config import Settings
from app.core.security import verify_token
from tests.conftest import PASSWORD, bearer, login, register

ME = "/v1/users/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Keys:
    """What a forger might hold: our real signing key (to change only the claims) and
    SECRET_KEY (which signs nothing the service accepts as an access token)."""

    sign: Callable[[dict[str, Any]], str]
    secret: str


@pytest.fixture
def keys(app: FastAPI, settings: Settings) -> Keys:
    return Keys(sign=app.state.context.tokens.ring.sign, secret=settings.signing_key())


def _claims_of(token: str, app: FastAPI) -> dict[str, Any]:
    claims = verify_token(app.state.context.tokens, token)
    assert claims is not None
    return claims


def _sign(claims: dict[str, Any], key: str | bytes, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def assert_unauthorized(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.json()["message"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.fixture
async def signed_in(client: AsyncClient, app: FastAPI) -> dict[str, Any]:
    """A registered user, a real token for them, and that token's claims."""
    user = await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    return {"user": user, "token": token, "claims": _claims_of(token, app)}


async def test_me_returns_the_signed_in_users_profile(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    response = await client.get(ME, headers=bearer(signed_in["token"]))

    assert response.status_code == 200
    body = response.json()
    assert body == signed_in["user"]
    assert "hashed_password" not in body and "password" not in response.text


async def test_me_token_carries_the_documented_claims(
    signed_in: dict[str, Any], settings: Settings
) -> None:
    claims = signed_in["claims"]

    assert claims["sub"] == signed_in["user"]["id"]
    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_lifetime_seconds
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]


async def test_me_accepts_a_token_re_signed_from_the_same_claims(
    client: AsyncClient, signed_in: dict[str, Any], keys: Keys
) -> None:
    # Control for the forgeries below: re-signing unchanged claims gives a valid token.
    token = keys.sign(signed_in["claims"])

    response = await client.get(ME, headers=bearer(token))

    assert response.status_code == 200
    assert response.json()["id"] == signed_in["user"]["id"]


async def test_me_accepts_a_token_expired_within_the_leeway(
    client: AsyncClient, signed_in: dict[str, Any], keys: Keys
) -> None:
    now = int(time.time())
    claims = {**signed_in["claims"], "iat": now - 60, "exp": now - 1}

    response = await client.get(ME, headers=bearer(keys.sign(claims)))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic YW5uQGV4YW1wbGUuY29tOnBhc3N3b3Jk"},
    ],
    ids=["none", "empty", "scheme-only", "blank", "garbage", "three-parts", "huge", "basic"],
)
async def test_me_without_a_usable_token_is_401_with_bearer_challenge(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    assert_unauthorized(await client.get(ME, headers=headers))


def _unsigned(claims: dict[str, Any], _: Keys) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _wrong_key(claims: dict[str, Any], _: Keys) -> str:
    return _sign(claims, "another-secret-of-at-least-32-bytes!!")


def _hs256_with_secret_key(claims: dict[str, Any], keys: Keys) -> str:
    # What access tokens were before asymmetric keys: SECRET_KEY no longer signs them.
    return _sign(claims, keys.secret)


def _hs512_with_secret_key(claims: dict[str, Any], keys: Keys) -> str:
    return _sign(claims, keys.secret, "HS512")


def _rs256_with_own_key(claims: dict[str, Any], _: Keys) -> str:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, private_key, algorithm="RS256")


def _header_claims_rs256_but_hmac_signed(claims: dict[str, Any], keys: Keys) -> str:
    # Algorithm confusion: the header says RS256, the signature is HMAC with SECRET_KEY.
    signed = _sign(claims, keys.secret)
    _, payload, signature = signed.split(".")
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    return f"{header}.{payload}.{signature}"


def _tampered_payload(claims: dict[str, Any], keys: Keys) -> str:
    signed = keys.sign(claims)
    header, _, signature = signed.split(".")
    other = {**claims, "sub": str(uuid.uuid4())}
    return f"{header}.{_b64(json.dumps(other).encode())}.{signature}"


def _with(**changes: Any) -> Callable[[dict[str, Any], Keys], str]:
    def forge(claims: dict[str, Any], keys: Keys) -> str:
        return keys.sign({**claims, **changes})

    return forge


def _without(name: str) -> Callable[[dict[str, Any], Keys], str]:
    def forge(claims: dict[str, Any], keys: Keys) -> str:
        assert name in claims  # otherwise this case would prove nothing
        return keys.sign({k: v for k, v in claims.items() if k != name})

    return forge


NOW = int(time.time())
FORGERIES: dict[str, Callable[[dict[str, Any], Keys], str]] = {
    "alg-none": _unsigned,
    "wrong-key": _wrong_key,
    "hs256-secret-key": _hs256_with_secret_key,
    "hs512-secret-key": _hs512_with_secret_key,
    "rs256-own-key": _rs256_with_own_key,
    "rs256-header-hmac-signature": _header_claims_rs256_but_hmac_signed,
    "tampered-payload": _tampered_payload,
    "expired-beyond-leeway": _with(iat=NOW - 3600, exp=NOW - 60),
    "issued-in-the-future": _with(iat=NOW + 3600, exp=NOW + 7200),
    "not-before-in-the-future": _with(nbf=NOW + 3600),
    "no-exp": _without("exp"),
    "no-iat": _without("iat"),
    "no-sub": _without("sub"),
    "no-jti": _without("jti"),
    "no-iss": _without("iss"),
    "no-aud": _without("aud"),
    "wrong-aud": _with(aud="someone-else"),
    "wrong-iss": _with(iss="someone-else"),
    "unknown-sub": _with(sub=str(uuid.uuid4())),
    "sub-not-a-uuid": _with(sub="ann@example.com"),
    "sub-not-a-string": _with(sub=12345),
    "sub-null": _with(sub=None),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_me_rejects_forged_or_invalid_token(
    client: AsyncClient,
    signed_in: dict[str, Any],
    keys: Keys,
    forge: Callable[[dict[str, Any], Keys], str],
) -> None:
    token = forge(signed_in["claims"], keys)

    response = await client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


async def test_me_rejects_a_token_whose_expiry_passed(
    client: AsyncClient, signed_in: dict[str, Any], keys: Keys
) -> None:
    # Lifetime is the configured one; move both timestamps back past expiry + leeway.
    lifetime = signed_in["claims"]["exp"] - signed_in["claims"]["iat"]
    iat = int(time.time()) - lifetime - 30
    claims = {**signed_in["claims"], "iat": iat, "exp": iat + lifetime}

    assert_unauthorized(await client.get(ME, headers=bearer(keys.sign(claims))))


async def test_me_rejects_a_token_from_an_app_with_another_secret(
    client: AsyncClient, client_for: Callable[..., Any]
) -> None:
    await register(client, "ann@example.com")
    # make_settings draws a new random secret; HS256, so the secret alone signs (with
    # asymmetric keys, the other app's public key would be in the shared database).
    async with client_for(jwt_algorithm="HS256") as other_app:
        token = await login(other_app, "ann@example.com")
        assert (await other_app.get(ME, headers=bearer(token))).status_code == 200

    assert_unauthorized(await client.get(ME, headers=bearer(token)))


async def test_me_with_token_of_deactivated_user_is_401(
    client: AsyncClient, signed_in: dict[str, Any], superuser_token: str
) -> None:
    deactivated = await client.patch(
        f"/v1/users/{signed_in['user']['id']}",
        json={"is_active": False},
        headers=bearer(superuser_token),
    )
    assert deactivated.status_code == 200

    assert_unauthorized(await client.get(ME, headers=bearer(signed_in["token"])))


async def test_me_with_token_of_deleted_user_is_401(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    deleted = await client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=bearer(signed_in["token"])
    )
    assert deleted.status_code == 204

    assert_unauthorized(await client.get(ME, headers=bearer(signed_in["token"])))


async def test_me_token_of_deleted_user_does_not_open_a_new_account_with_that_email(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    await client.request(
        "DELETE", ME, json={"current_password": PASSWORD}, headers=bearer(signed_in["token"])
    )
    again = await register(client, "ann@example.com")

    assert again["id"] != signed_in["user"]["id"]
    assert_unauthorized(await client.get(ME, headers=bearer(signed_in["token"])))


async def test_me_rejects_post(client: AsyncClient, signed_in: dict[str, Any]) -> None:
    response = await client.post(ME, json={}, headers=bearer(signed_in["token"]))

    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_me_does_not_accept_the_token_in_the_query_string(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    response = await client.get(ME, params={"access_token": signed_in["token"]})

    assert_unauthorized(response)


async def test_me_does_not_accept_the_token_as_a_cookie(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    response = await client.get(ME, headers={"Cookie": f"access_token={signed_in['token']}"})

    assert_unauthorized(response)


async def test_me_accepts_the_scheme_name_in_any_case(
    client: AsyncClient, signed_in: dict[str, Any]
) -> None:
    response = await client.get(ME, headers={"Authorization": f"bearer {signed_in['token']}"})

    assert response.status_code == 200
