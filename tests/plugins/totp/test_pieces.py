"""The plugin's pure pieces: code matching, recovery-code spelling, sealing, settings."""

import base64
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from pydantic import ValidationError

from app.plugins.totp.codes import matching_step, new_recovery_codes, normalize_recovery_code
from app.plugins.totp.sealing import Sealer, UnsealError, build_sealer
from app.plugins.totp.settings import TotpSettings

NOW = datetime(2026, 11, 27, 12, 0, 10, tzinfo=UTC)  # 10 s into a step


@pytest.mark.parametrize(
    ("steps", "matches"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_a_code_matches_within_one_step_of_drift(steps: int, matches: bool) -> None:
    secret = pyotp.random_base32(32)
    totp = pyotp.TOTP(secret)
    typed = totp.at(NOW + timedelta(seconds=30 * steps))

    found = matching_step(secret, typed, now=NOW)

    assert (found == totp.timecode(NOW) + steps) if matches else found is None


def test_recovery_codes_are_read_however_they_are_typed() -> None:
    [first, *_] = codes = new_recovery_codes()

    assert len(set(codes)) == 10
    assert normalize_recovery_code(f" {first[:5].upper()} - {first[5:]} ") == first
    assert normalize_recovery_code(first + "a") is None
    assert normalize_recovery_code("iiiii-lllll") is None  # letters the codes never use


def test_a_sealed_secret_opens_only_for_its_user_and_key() -> None:
    key = secrets.token_bytes(32)
    sealer = Sealer(secrets_key=key, recovery_key=key)
    ann, bob = uuid.uuid4(), uuid.uuid4()
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", user_id=ann)

    assert sealer.unseal(sealed, user_id=ann) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(UnsealError):
        sealer.unseal(sealed, user_id=bob)
    other = Sealer(secrets_key=secrets.token_bytes(32), recovery_key=key)
    with pytest.raises(UnsealError):
        other.unseal(sealed, user_id=ann)


def test_the_recovery_code_key_is_not_the_encryption_key() -> None:
    key = secrets.token_bytes(32)
    derived = build_sealer(None, lambda purpose: purpose.encode().ljust(32, b"."))
    configured = build_sealer(key, lambda purpose: pytest.fail("nothing is derived"))

    assert derived.recovery_digest("abcdefghjk") != configured.recovery_digest("abcdefghjk")
    assert configured.recovery_digest("abcdefghjk") != Sealer(
        secrets_key=key, recovery_key=key
    ).recovery_digest("abcdefghjk")


@pytest.mark.parametrize("value", ["short", secrets.token_urlsafe(16), "!" * 43])
def test_an_encryption_key_must_be_32_bytes_of_base64url(value: str) -> None:
    with pytest.raises(ValidationError, match="TOTP_ENCRYPTION_KEY"):
        TotpSettings(_env_file=None, encryption_key=value)


def test_a_good_encryption_key_is_read() -> None:
    key = secrets.token_bytes(32)

    settings = TotpSettings(_env_file=None, encryption_key=base64.urlsafe_b64encode(key).decode())

    assert settings.key_bytes() == key
