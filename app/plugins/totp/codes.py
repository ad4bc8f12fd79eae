"""The codes of two-step sign-in: authenticator secrets and their codes (RFC 6238 with
pyotp), recovery codes, and the mfa_token of a login waiting for its second step."""

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

SECRET_CHARS = 32  # base32: 160 bits, RFC 4226's recommended secret length
DRIFT_STEPS = 1  # a code from one step (30 s) before or after now is accepted
RECOVERY_CODE_COUNT = 10
# 32 characters without i, l, o and u, so 0 and 1 can't be misread: 10 of them are 50 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstvwxyz0123456789"
RECOVERY_CODE_LENGTH = 10
MFA_TOKEN_BYTES = 32


def new_secret() -> str:
    return pyotp.random_base32(length=SECRET_CHARS)


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://totp/Issuer:account?secret=...&issuer=...` URI authenticator apps read."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, *, now: datetime) -> int | None:
    """The time step (within the allowed drift) whose code is `code`, or None. Every
    candidate is compared in constant time, and all of them, so timing says nothing."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            found = current + offset
    return found


def new_recovery_codes() -> list[str]:
    return [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def display_recovery_code(code: str) -> str:
    half = RECOVERY_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize_recovery_code(typed: str) -> str | None:
    """ "ABCDE-FGHJK", "abcde fghjk" and "abcdefghjk" are one code; None if it can't be one."""
    code = "".join(typed.split()).replace("-", "").lower()
    if len(code) != RECOVERY_CODE_LENGTH or any(char not in RECOVERY_ALPHABET for char in code):
        return None
    return code


def new_mfa_token() -> str:
    return secrets.token_urlsafe(MFA_TOKEN_BYTES)


def mfa_token_digest(token: str) -> str:
    # 256 random bits: a plain hash suffices; a copy of the table can't finish a login.
    return hashlib.sha256(token.encode()).hexdigest()
