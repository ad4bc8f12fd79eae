"""Signing keys without a database: sealing, JWKs, the key set and the key ring."""

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from app.core.errors import SigningKeyUnavailable
from app.core.keys import (
    KeyRing,
    KeySet,
    LoadedKey,
    Sealer,
    generate_private_key,
    public_pem,
)
from app.core.security import REQUIRED_CLAIMS, TokenSettings, derive_key, verify_token

NOW = datetime.now(UTC)


def loaded(algorithm: Any = "EdDSA", *, kid: str = "k1", activates_at: float = 0) -> LoadedKey:
    private = generate_private_key(algorithm)
    return LoadedKey(kid, algorithm, private.public_key(), private, activates_at=activates_at)


def config(*keys: LoadedKey) -> TokenSettings:
    return TokenSettings(
        key="s" * 64,
        issuer="iss-x",
        audience="aud-y",
        lifetime_seconds=900,
        keys=KeyRing(KeySet.of(list(keys))),
    )


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {"iss": "iss-x", "aud": "aud-y", "iat": now, "exp": now + 60}
    for name in REQUIRED_CLAIMS:
        values.setdefault(name, str(uuid.uuid4()))
    values.update(changes)
    return values


def test_a_sealed_private_key_opens_only_with_the_same_secret() -> None:
    key = generate_private_key("EdDSA")
    sealed = Sealer(derive_key("a" * 64, purpose="p")).seal(key)

    opened = Sealer(derive_key("a" * 64, purpose="p")).open(sealed)

    assert opened is not None and public_pem(opened) == public_pem(key)
    assert Sealer(derive_key("b" * 64, purpose="p")).open(sealed) is None
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert raw.hex() not in sealed


@pytest.mark.parametrize(
    ("algorithm", "kty", "crv"), [("EdDSA", "OKP", "Ed25519"), ("ES256", "EC", "P-256")]
)
def test_the_jwk_is_public_and_names_kid_alg_and_use(algorithm: Any, kty: str, crv: str) -> None:
    jwk = loaded(algorithm).jwk()

    assert jwk["kty"] == kty and jwk["crv"] == crv and jwk["x"]
    assert ("y" in jwk) == (algorithm == "ES256")
    assert {jwk["kid"], jwk["alg"], jwk["use"]} == {"k1", algorithm, "sig"}
    assert "d" not in jwk  # the private part


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256"])
def test_a_signed_token_carries_kid_and_verifies(algorithm: Any) -> None:
    key = loaded(algorithm)
    settings = config(key)
    token = settings.ring.sign(claims())

    assert jwt.get_unverified_header(token) == {"alg": algorithm, "kid": "k1", "typ": "JWT"}
    assert verify_token(settings, token) is not None


def test_the_newest_active_key_signs_and_a_prepublished_one_waits() -> None:
    now = time.time()
    old, new = loaded(kid="old", activates_at=now - 10), loaded(kid="new", activates_at=now + 60)
    keyset = KeySet.of([old, new])

    assert keyset.signer(now).kid == "old"
    assert keyset.signer(now + 61).kid == "new"
    assert {key.kid for key in keyset.published()} == {"old", "new"}


def test_no_key_to_sign_with_is_a_503_not_a_crash() -> None:
    public_only = LoadedKey("k", "EdDSA", generate_private_key("EdDSA").public_key(), None, 0)

    with pytest.raises(SigningKeyUnavailable):
        KeyRing(KeySet.of([public_only])).sign(claims())
    with pytest.raises(SigningKeyUnavailable):
        KeyRing().sign(claims())


def test_the_hs256_key_is_never_published() -> None:
    assert KeySet.symmetric("s" * 64).published() == []
    with pytest.raises(ValueError, match="never published"):
        KeySet.symmetric("s" * 64).keys["hs256"].jwk()


def test_hs256_mode_still_accepts_tokens_from_before_kids() -> None:
    settings = TokenSettings(key="s" * 64, issuer="iss-x", audience="aud-y", lifetime_seconds=900)

    assert verify_token(settings, jwt.encode(claims(), "s" * 64, algorithm="HS256")) is not None
    assert jwt.get_unverified_header(settings.ring.sign(claims()))["kid"] == "hs256"


def test_a_cached_token_stops_working_when_its_key_is_dropped() -> None:
    key, other = loaded(kid="k1"), loaded(kid="k2")
    settings = config(key, other)
    token = settings.ring.sign(claims())
    assert verify_token(settings, token) is not None  # now cached

    settings.ring.replace(KeySet.of([other]))

    assert verify_token(settings, token) is None


def test_the_cache_hands_out_copies() -> None:
    settings = config(loaded())
    token = settings.ring.sign(claims())
    first = verify_token(settings, token)
    assert first is not None
    first["sub"] = "someone else"

    second = verify_token(settings, token)
    assert second is not None and second["sub"] != "someone else"


def test_the_cache_keeps_a_token_no_longer_than_its_exp() -> None:
    settings = config(loaded())
    now = int(time.time())
    live = settings.ring.sign(claims(exp=now + 60))
    # Past exp but within the leeway: it verifies, and the cache lets it go at once.
    lapsing = settings.ring.sign(claims(iat=now - 60, exp=now - 1))
    assert verify_token(settings, live) is not None
    assert verify_token(settings, lapsing) is not None

    settings.ring._verified.expire()

    assert [token for token, _ in settings.ring._verified] == [live]


async def test_unknown_kids_reload_the_keys_at_most_once_per_interval() -> None:
    reloads = 0
    key = loaded()

    async def reload() -> KeySet:
        nonlocal reloads
        reloads += 1
        return KeySet.of([key])

    ring = KeyRing(KeySet.of([key]), reload=reload)
    attacker = generate_private_key("EdDSA")
    for _ in range(50):
        forged = jwt.encode(
            claims(), attacker, algorithm="EdDSA", headers={"kid": uuid.uuid4().hex}
        )
        assert ring.names_unknown_key(forged)
        await ring.reload_for_unknown_key()

    assert reloads == 1
