"""Access-token signing keys: making them, sealing their private parts, publishing their
public parts (JWK), and the key set one process signs and verifies with.

Nothing here touches the database: app/services/signing_keys.py stores the keys and
hands each process its KeySet.
"""

import asyncio
import base64
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import jwt
from cachetools import TLRUCache
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from app.core.errors import SigningKeyUnavailable

Algorithm = Literal["EdDSA", "ES256", "HS256"]
ASYMMETRIC: tuple[Algorithm, ...] = ("EdDSA", "ES256")
HMAC_KID = "hs256"  # HS256's one key: SECRET_KEY itself, never published
SEALING_PURPOSE = "signing-keys v1"  # derive_key() purpose of the key sealing private parts
VERIFIED_CACHE_SIZE = 4096  # verified tokens kept per process (about 1 KiB each)
UNKNOWN_KID_RELOAD_SECONDS = 5.0  # at most one reload this often for unknown `kid`s

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


def generate_private_key(algorithm: Algorithm) -> PrivateKey:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"{algorithm} keys are not asymmetric")


def new_kid() -> str:
    # Random rather than a thumbprint: a kid says nothing about the key.
    return secrets.token_urlsafe(16)


def public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class Sealer:
    """Encrypts private keys for the database (Fernet: AES-CBC + HMAC) with a key derived
    from SECRET_KEY, so a database dump alone can't mint tokens."""

    def __init__(self, sealing_key: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(sealing_key))

    def seal(self, key: PrivateKey) -> str:
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return self._fernet.encrypt(der).decode()

    def open(self, sealed: str) -> PrivateKey | None:
        """The private key, or None when it was sealed under another SECRET_KEY."""
        try:
            der = self._fernet.decrypt(sealed.encode())
        except InvalidToken:
            return None
        key = serialization.load_der_private_key(der, password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("a stored signing key is of an unexpected type")
        return key


@dataclass(frozen=True)
class LoadedKey:
    """One key as a process holds it: the public part always, the private part if it
    could be opened, and when it may sign."""

    kid: str
    algorithm: Algorithm
    public: PublicKey | bytes  # bytes: the HS256 secret
    private: PrivateKey | bytes | None
    activates_at: float  # epoch seconds; a pre-published key signs from then on
    retired_at: float | None = None

    @classmethod
    def from_pem(
        cls,
        *,
        kid: str,
        algorithm: str,
        public_key_pem: str,
        private: PrivateKey | None,
        activates_at: datetime,
        retired_at: datetime | None,
    ) -> "LoadedKey":
        if algorithm not in ASYMMETRIC:
            raise ValueError(f"a stored signing key has the algorithm {algorithm!r}")
        public = serialization.load_pem_public_key(public_key_pem.encode())
        expected = ed25519.Ed25519PublicKey if algorithm == "EdDSA" else ec.EllipticCurvePublicKey
        if not isinstance(public, expected):
            raise ValueError(f"stored key {kid} does not match its algorithm {algorithm}")
        return cls(
            kid=kid,
            algorithm="EdDSA" if algorithm == "EdDSA" else "ES256",
            public=public,
            private=private,
            activates_at=activates_at.timestamp(),
            retired_at=None if retired_at is None else retired_at.timestamp(),
        )

    def jwk(self) -> dict[str, str]:
        """The public key as RFC 7517 publishes it."""
        if isinstance(self.public, ed25519.Ed25519PublicKey):
            fields = OKPAlgorithm.to_jwk(self.public, as_dict=True)
        elif isinstance(self.public, ec.EllipticCurvePublicKey):
            fields = ECAlgorithm.to_jwk(self.public, as_dict=True)
        else:
            raise ValueError("a symmetric key is never published")
        return {**fields, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass(frozen=True)
class KeySet:
    """The keys one process verifies with (by kid) and signs with (the newest it can open)."""

    keys: Mapping[str, LoadedKey]
    # Signing candidates, newest activation first; each signs once its time has come.
    signers: tuple[LoadedKey, ...] = field(default=())

    @classmethod
    def of(cls, keys: list[LoadedKey]) -> "KeySet":
        signers = sorted(
            (key for key in keys if key.private is not None),
            key=lambda key: key.activates_at,
            reverse=True,
        )
        return cls({key.kid: key for key in keys}, tuple(signers))

    @classmethod
    def symmetric(cls, secret: str) -> "KeySet":
        """JWT_ALGORITHM=HS256: SECRET_KEY signs and verifies, as before asymmetric keys."""
        key = LoadedKey(HMAC_KID, "HS256", secret.encode(), secret.encode(), activates_at=0)
        return cls.of([key])

    def signer(self, now: float) -> LoadedKey:
        for key in self.signers:
            if key.activates_at <= now:
                return key
        raise SigningKeyUnavailable()  # none loaded yet, or none this SECRET_KEY opens

    def published(self) -> list[LoadedKey]:
        """What the JWKS lists: every asymmetric key, pre-published and retired ones too."""
        return [key for key in self.keys.values() if key.algorithm in ASYMMETRIC]

    def verifier(self, header: dict[str, Any]) -> LoadedKey | None:
        """The key a token's header names, from our own set only (never `jku`, `x5u` or an
        embedded `jwk`: PyJWT doesn't follow them, and we look only at `kid`)."""
        kid = header.get("kid")
        if kid is None and HMAC_KID in self.keys:
            return self.keys[HMAC_KID]  # HS256 tokens from before keys had ids
        return self.keys.get(kid) if isinstance(kid, str) else None


def _until_expiry(_key: object, value: tuple[str, dict[str, Any]], _now: float) -> float:
    exp = value[1].get("exp")
    return float(exp) if isinstance(exp, int | float) else 0.0


class KeyRing:
    """The current KeySet of this process, replaced whole when the keys change, with a
    cache of tokens it has verified.

    The cache holds a token's claims until its `exp`, keyed by the whole token, so only
    the exact bytes verified before can hit; a hit still needs its key in the current
    set, so a dropped key ends its tokens here too. Requests use it on the event loop's
    thread only (cachetools is not thread-safe).
    """

    def __init__(
        self,
        keyset: KeySet | None = None,
        *,
        reload: Callable[[], Awaitable[KeySet]] | None = None,
        prepare: Callable[[], Awaitable[KeySet]] | None = None,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self._keyset = keyset or KeySet({})
        self._reload = reload  # reads the stored keys
        self._prepare = prepare  # makes a usable key if need be, then reads them
        self._reload_lock = asyncio.Lock()
        self._prepare_lock = asyncio.Lock()
        self._last_unknown_reload = -UNKNOWN_KID_RELOAD_SECONDS
        # Keyed by (token, required claims); only verified tokens get in.
        self._verified: TLRUCache[tuple[str, tuple[str, ...]], tuple[str, dict[str, Any]]]
        self._verified = TLRUCache(cache_size, _until_expiry, timer=time.time)

    @property
    def keyset(self) -> KeySet:
        return self._keyset

    def replace(self, keyset: KeySet) -> None:
        self._keyset = keyset

    async def ready(self) -> None:
        """Have a key to sign with. Free once loaded; a process whose start couldn't load
        the keys (a slow or unreachable database) loads them here, one request at a time
        (the others wait for it); a database error then answers that request's 503."""
        if self._keyset.signers or self._prepare is None:
            return
        async with self._prepare_lock:
            if not self._keyset.signers:
                self.replace(await self._prepare())

    def sign(self, claims: dict[str, Any]) -> str:
        key = self._keyset.signer(time.time())
        if key.private is None:  # signer() picks only keys it can open
            raise SigningKeyUnavailable()
        return jwt.encode(claims, key.private, algorithm=key.algorithm, headers={"kid": key.kid})

    def verify(
        self, token: str, *, required: tuple[str, ...], **checks: Any
    ) -> dict[str, Any] | None:
        """The claims of a token signed by one of our keys, or None. `checks` are PyJWT's
        (audience, issuer, leeway): the same in every call of a process (its
        TokenSettings), which is why the cache needn't be keyed by them."""
        cached = self._verified.get((token, required))
        if cached is not None and cached[0] in self._keyset.keys:
            return dict(cached[1])
        try:
            key = self._keyset.verifier(jwt.get_unverified_header(token))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public,
                algorithms=[key.algorithm],  # pinned to the key: never the header's `alg`
                options={"require": list(required)},
                **checks,
            )
        except jwt.PyJWTError:
            return None
        self._verified[(token, required)] = (key.kid, claims)
        return dict(claims)

    def names_unknown_key(self, token: str) -> bool:
        """Whether the token names a kid we don't hold (perhaps a key made elsewhere)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return False
        return self._keyset.verifier(header) is None and isinstance(header.get("kid"), str)

    async def reload_for_unknown_key(self) -> bool:
        """Reload the keys, at most once every UNKNOWN_KID_RELOAD_SECONDS: a token with a
        made-up kid must not cost a database query each. True if it reloaded."""
        if self._reload is None:
            return False
        async with self._reload_lock:
            now = time.monotonic()
            if now - self._last_unknown_reload < UNKNOWN_KID_RELOAD_SECONDS:
                return False
            self._last_unknown_reload = now
            self.replace(await self._reload())
            return True
