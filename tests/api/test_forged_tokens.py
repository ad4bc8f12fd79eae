"""Tokens we didn't sign, or signed for something else, are all 401 on /v1/users/me."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fastapi import FastAPI
from httpx import AsyncClient
from jwt.algorithms import OKPAlgorithm

from app.core.keys import KeyRing, LoadedKey
from tests.conftest import bearer

ATTACKER = ed25519.Ed25519PrivateKey.generate()
ATTACKER_KID = "attacker-key"


def ring(app: FastAPI) -> KeyRing:
    keys: KeyRing = app.state.context.tokens.ring
    return keys


def signing_key(app: FastAPI) -> LoadedKey:
    return ring(app).keyset.signer(time.time())


def claims_of(app: FastAPI, token: str, **changes: Any) -> dict[str, Any]:
    """The claims of our own valid `token`, changed."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    return claims


async def me_status(client: AsyncClient, token: str) -> int:
    return (await client.get("/v1/users/me", headers=bearer(token))).status_code


async def test_our_own_signature_passes(client: AsyncClient, app: FastAPI, user_token: str) -> None:
    """The control: re-signing the same claims with our key works, so the 401s below are
    about what was changed."""
    resigned = ring(app).sign(claims_of(app, user_token, jti=uuid.uuid4().hex))

    assert await me_status(client, resigned) == 200


async def test_hs256_signed_with_the_public_key_is_refused(
    client: AsyncClient, app: FastAPI, user_token: str
) -> None:
    key = signing_key(app)
    public = key.public
    assert isinstance(public, ed25519.Ed25519PublicKey)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = OKPAlgorithm.to_jwk(public, as_dict=True)["x"].encode()
    claims = claims_of(app, user_token)
    for secret in (pem, raw):
        forged = _hs256_by_hand({"alg": "HS256", "kid": key.kid, "typ": "JWT"}, claims, secret)
        assert await me_status(client, forged) == 401


def _hs256_by_hand(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """The classic confusion attack, built by hand: PyJWT refuses to HMAC with a PEM."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(mac)}"


async def test_alg_none_is_refused(client: AsyncClient, app: FastAPI, user_token: str) -> None:
    unsigned = jwt.encode(
        claims_of(app, user_token), "", algorithm="none", headers={"kid": signing_key(app).kid}
    )

    assert await me_status(client, unsigned) == 401


async def test_an_unknown_kid_is_refused(
    client: AsyncClient, app: FastAPI, user_token: str
) -> None:
    forged = jwt.encode(
        claims_of(app, user_token), ATTACKER, algorithm="EdDSA", headers={"kid": ATTACKER_KID}
    )

    assert await me_status(client, forged) == 401


def _attacker_jwks() -> dict[str, Any]:
    jwk = OKPAlgorithm.to_jwk(ATTACKER.public_key(), as_dict=True)
    return {**jwk, "kid": ATTACKER_KID, "alg": "EdDSA", "use": "sig"}


@pytest.mark.parametrize(
    "header",
    [
        {"kid": ATTACKER_KID, "jku": "https://attacker.example/jwks.json"},
        {"kid": ATTACKER_KID, "x5u": "https://attacker.example/cert.pem"},
        {"kid": ATTACKER_KID, "jwk": _attacker_jwks()},
        {"jwk": _attacker_jwks()},
    ],
    ids=["jku", "x5u", "embedded-jwk", "embedded-jwk-no-kid"],
)
async def test_keys_named_outside_our_set_are_ignored(
    client: AsyncClient, app: FastAPI, user_token: str, header: dict[str, Any]
) -> None:
    forged = jwt.encode(claims_of(app, user_token), ATTACKER, algorithm="EdDSA", headers=header)
    # Also with our own kid, so only the signature (the attacker's) could let it in.
    ours = jwt.encode(
        claims_of(app, user_token),
        ATTACKER,
        algorithm="EdDSA",
        headers={**header, "kid": signing_key(app).kid},
    )

    assert await me_status(client, forged) == 401
    assert await me_status(client, ours) == 401


async def test_our_kid_with_another_key_type_is_refused(
    client: AsyncClient, app: FastAPI, user_token: str
) -> None:
    other_type = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(
        claims_of(app, user_token),
        other_type,
        algorithm="ES256",
        headers={"kid": signing_key(app).kid},
    )

    assert await me_status(client, forged) == 401


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000},
        {"iss": "someone-else"},
        {"aud": "another-service"},
        {"aud": "auth-service:access:reset-password"},
    ],
    ids=["expired", "wrong-iss", "wrong-aud", "action-token-aud"],
)
async def test_our_signature_on_wrong_claims_is_refused(
    client: AsyncClient, app: FastAPI, user_token: str, changes: dict[str, Any]
) -> None:
    resigned = ring(app).sign(claims_of(app, user_token, **changes))

    assert await me_status(client, resigned) == 401


async def test_a_missing_kid_is_refused(client: AsyncClient, app: FastAPI, user_token: str) -> None:
    key = signing_key(app)
    assert key.private is not None
    no_kid = jwt.encode(claims_of(app, user_token), key.private, algorithm=key.algorithm)

    assert await me_status(client, no_kid) == 401
