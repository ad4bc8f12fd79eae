"""Secrets at rest: authenticator secrets sealed with AES-256-GCM, recovery codes as HMACs.

Two keys, each for one purpose: TOTP_ENCRYPTION_KEY (or HKDF of SECRET_KEY, "totp:secrets
v1") seals secrets; HKDF of the same root, "totp:recovery-codes v1", keys the HMAC.

A secret is sealed with its user's id as associated data, so a sealed value copied onto
another account's row doesn't open. Recovery codes carry 50 random bits each: a guess is
as hopeless against a keyed HMAC as against bcrypt, and the HMAC lets a code be found with
one indexed lookup instead of up to ten bcrypt checks (a CPU cost an attacker could
trigger at will).
"""

import hashlib
import hmac
import os
import uuid
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # 96 bits, GCM's own size; random per seal (few seals per key)
SECRETS_PURPOSE = "totp:secrets v1"
RECOVERY_PURPOSE = "totp:recovery-codes v1"


class UnsealError(Exception):
    """The sealed secret doesn't open with this key (the key changed, or the row moved)."""


class Sealer:
    def __init__(self, *, secrets_key: bytes, recovery_key: bytes) -> None:
        self._aead = AESGCM(secrets_key)
        self._recovery_key = recovery_key

    def seal(self, secret: str, *, user_id: uuid.UUID) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), user_id.bytes)

    def unseal(self, sealed: bytes, *, user_id: uuid.UUID) -> str:
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, ciphertext, user_id.bytes).decode()
        except InvalidTag:
            raise UnsealError from None

    def recovery_digest(self, code: str) -> str:
        """The stored form of a (normalised) recovery code."""
        return hmac.new(self._recovery_key, code.encode(), hashlib.sha256).hexdigest()


def build_sealer(encryption_key: bytes | None, derive: Callable[[str], bytes]) -> Sealer:
    """The sealer under TOTP_ENCRYPTION_KEY, or under keys `derive`d from SECRET_KEY."""
    if encryption_key is None:
        return Sealer(secrets_key=derive(SECRETS_PURPOSE), recovery_key=derive(RECOVERY_PURPOSE))
    # One block of HKDF-Expand is this HMAC: the recovery codes get a key of their own.
    info = RECOVERY_PURPOSE.encode() + b"\x01"
    recovery_key = hmac.new(encryption_key, info, hashlib.sha256).digest()
    return Sealer(secrets_key=encryption_key, recovery_key=recovery_key)
