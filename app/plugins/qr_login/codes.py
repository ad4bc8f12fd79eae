"""The two codes of a request: the device code (a secret) and the user code (typed or scanned)."""

import hashlib
import secrets

# RFC 8628 section 6.1: consonants only, no look-alikes (0/O, 1/I/L, 5/S, 8/B, vowels that
# spell words); 20^8 codes, about 34.6 bits, with lookups rate-limited per user.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEVICE_CODE_BYTES = 32  # 256 random bits


def new_device_code() -> str:
    return secrets.token_urlsafe(DEVICE_CODE_BYTES)


def device_code_digest(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def new_user_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalize_user_code(typed: str) -> str | None:
    """ "bcdf-ghjk", "BCDF GHJK" and "bcdfghjk" are one code; None if it can't be one."""
    if len(typed) > 2 * USER_CODE_LENGTH:
        return None
    code = "".join(typed.split()).replace("-", "").upper()
    if len(code) != USER_CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def display_user_code(code: str) -> str:
    half = USER_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
