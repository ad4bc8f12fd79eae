"""Access-token verification and the password hasher, tested directly."""

import asyncio
import os
import sys
import threading
import time
import unicodedata
import uuid
from typing import Any

import jwt
import pytest
from pwdlib.hashers.bcrypt import BcryptHasher

from app.core.errors import ServiceBusy
from app.core.security import (
    LEEWAY_SECONDS,
    MAX_PASSWORD_BYTES,
    REQUIRED_CLAIMS,
    PasswordHasher,
    TokenSettings,
    new_refresh_token,
    refresh_token_digest,
    refresh_token_successor,
    verify_token,
)

CONFIG = TokenSettings(key="k" * 64, issuer="issuer-x", audience="audience-y", lifetime_seconds=900)


def claims(**changes: Any) -> dict[str, Any]:
    """A complete, valid claim set for CONFIG (every required claim present)."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": CONFIG.issuer,
        "aud": CONFIG.audience,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    for name in REQUIRED_CLAIMS:  # any claim added later gets a plausible value
        values.setdefault(name, str(uuid.uuid4()))
    values.update(changes)
    return values


def sign(payload: dict[str, Any], key: str = CONFIG.key, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def test_verify_token_returns_the_claims_of_a_valid_token() -> None:
    payload = claims()

    assert verify_token(CONFIG, sign(payload)) == payload


@pytest.mark.parametrize("name", REQUIRED_CLAIMS)
def test_verify_token_requires_every_claim(name: str) -> None:
    payload = claims()
    del payload[name]

    assert verify_token(CONFIG, sign(payload)) is None


@pytest.mark.parametrize(
    "payload",
    [
        claims(iss="other"),
        claims(aud="other"),
        claims(aud=["other", "more"]),
        claims(exp=int(time.time()) - LEEWAY_SECONDS - 30),
        claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200),
        claims(nbf=int(time.time()) + 3600),
        claims(sub=123),
        claims(jti=5),
    ],
    ids=["iss", "aud", "aud-list", "expired", "future-iat", "future-nbf", "sub-int", "jti-int"],
)
def test_verify_token_rejects_wrong_claims(payload: dict[str, Any]) -> None:
    assert verify_token(CONFIG, sign(payload)) is None


def test_verify_token_allows_the_leeway_after_expiry() -> None:
    now = int(time.time())

    assert verify_token(CONFIG, sign(claims(iat=now - 60, exp=now - 1))) is not None


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_verify_token_pins_the_algorithm(algorithm: str) -> None:
    assert verify_token(CONFIG, sign(claims(), algorithm=algorithm)) is None


def test_verify_token_rejects_another_key() -> None:
    assert verify_token(CONFIG, sign(claims(), key="z" * 64)) is None


@pytest.mark.parametrize("token", ["", "x", "a.b.c", "a.b", "é.é.é", "." * 3])
def test_verify_token_rejects_garbage_without_raising(token: str) -> None:
    assert verify_token(CONFIG, token) is None


def test_verify_token_rejects_alg_none() -> None:
    unsigned = jwt.encode(claims(), key="", algorithm="none")

    assert verify_token(CONFIG, unsigned) is None


# -- refresh tokens ------------------------------------------------------------------------


def test_refresh_successor_is_the_same_for_the_same_token_and_key() -> None:
    token, digest = new_refresh_token()

    successor, successor_digest = refresh_token_successor(CONFIG.key, token)

    assert refresh_token_successor(CONFIG.key, token) == (successor, successor_digest)
    assert successor_digest == refresh_token_digest(successor) != digest
    assert len(successor) == len(token) == 43  # 256 bits, base64url like fresh tokens
    assert successor.replace("-", "").replace("_", "").isalnum()


def test_refresh_successor_depends_on_the_key_and_the_token() -> None:
    token, _ = new_refresh_token()
    other, _ = new_refresh_token()

    successor, _ = refresh_token_successor(CONFIG.key, token)

    assert refresh_token_successor("z" * 64, token)[0] != successor
    assert refresh_token_successor(CONFIG.key, other)[0] != successor
    assert successor != token


# -- passwords -----------------------------------------------------------------------------


async def test_hasher_hash_verifies_and_is_salted() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=2)

    first, second = await hasher.hash("a good password"), await hasher.hash("a good password")

    assert first != second
    assert first.startswith("$2b$04$")
    assert await hasher.verify("a good password", first) == (True, None)
    assert (await hasher.verify("a bad password", first))[0] is False


async def test_hasher_refuses_passwords_over_72_bytes_instead_of_truncating() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1)
    password = "é" * (MAX_PASSWORD_BYTES // 2)
    hashed = await hasher.hash(password)

    assert (await hasher.verify(password, hashed))[0] is True
    assert await hasher.verify(password + "x", hashed) == (False, None)


async def test_hasher_offers_a_new_hash_when_the_cost_changed() -> None:
    old = await PasswordHasher(rounds=4, concurrency=1).hash("a good password")
    hasher = PasswordHasher(rounds=5, concurrency=1)

    valid, new_hash = await hasher.verify("a good password", old)

    assert valid is True
    assert new_hash is not None and new_hash.startswith("$2b$05$")
    assert await hasher.verify("a good password", new_hash) == (True, None)


async def test_hasher_waste_time_costs_about_one_verification() -> None:
    hasher = PasswordHasher(rounds=10, concurrency=1)
    hashed = await hasher.hash("a good password")
    await hasher.waste_time()  # first call also makes its dummy hash

    verify_seconds, waste_seconds = [], []
    for _ in range(3):  # best of three on each side: spikes only ever add time
        started = time.process_time()
        await hasher.verify("wrong password", hashed)
        verify_seconds.append(time.process_time() - started)
        started = time.process_time()
        await hasher.waste_time()
        waste_seconds.append(time.process_time() - started)

    assert min(waste_seconds) >= 0.5 * min(verify_seconds), (waste_seconds, verify_seconds)


async def test_hasher_refuses_work_past_its_queue_limit_at_once_and_takes_it_again_later() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1, queue_limit=2)
    hashed = await hasher.hash("a good password")

    results = await asyncio.gather(
        *(hasher.verify("a good password", hashed) for _ in range(5)), return_exceptions=True
    )

    refused = [result for result in results if isinstance(result, ServiceBusy)]
    assert len(refused) == 3  # one running and one waiting were taken on
    assert results[:2] == [(True, None), (True, None)]
    assert refused[0].status_code == 503
    # The bound counts work in progress, not work ever done.
    assert await hasher.verify("a good password", hashed) == (True, None)


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_hasher_threads_run_below_the_event_loops_priority() -> None:
    """A login storm must not take the CPU from token checks on the loop's thread."""
    hasher = PasswordHasher(rounds=4, concurrency=2)
    try:
        await asyncio.gather(*(hasher.hash("a good password") for _ in range(4)))
        hashing = [t for t in threading.enumerate() if t.name.startswith("password-hashing")]

        assert hashing
        loop_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        for thread in hashing:
            assert thread.native_id is not None
            assert os.getpriority(os.PRIO_PROCESS, thread.native_id) > loop_nice
    finally:
        hasher.close()


NFC_PASSWORD = unicodedata.normalize("NFC", "crème brûlée à l'été")
LIGATURES = "\ufb01nal \ufb02ight plan"  # "ﬁnal ﬂight plan": NFKC spells out the ligatures


async def test_hasher_verifies_a_password_in_any_normal_form() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=2)
    hashed = await hasher.hash(NFC_PASSWORD)

    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert await hasher.verify(unicodedata.normalize(form, NFC_PASSWORD), hashed) == (
            True,
            None,
        ), form


async def test_hasher_stores_the_nfkc_form() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1)

    hashed = await hasher.hash(LIGATURES)

    assert BcryptHasher().verify(unicodedata.normalize("NFKC", LIGATURES), hashed)


async def test_hasher_accepts_a_hash_of_the_typed_form_and_offers_a_normalised_one() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1)
    old_hash = BcryptHasher(rounds=4).hash(LIGATURES)  # made before normalisation

    valid, new_hash = await hasher.verify(LIGATURES, old_hash)

    assert valid is True
    assert new_hash is not None
    assert BcryptHasher().verify(unicodedata.normalize("NFKC", LIGATURES), new_hash)
    assert await hasher.verify("wrong " + LIGATURES, old_hash) == (False, None)


async def test_hasher_measures_72_bytes_on_the_normalised_form() -> None:
    hasher = PasswordHasher(rounds=4, concurrency=1)
    typed = "".join(chr(ord(c) + 0xFEE0) for c in "violettractorquietly1987ab")  # full-width
    assert len(typed.encode()) > MAX_PASSWORD_BYTES

    hashed = await hasher.hash(typed)

    assert await hasher.verify(typed, hashed) == (True, None)


async def test_hasher_waste_time_matches_verifying_input_that_nfkc_changes() -> None:
    # Such input costs two bcrypt runs on a real account (normalised, then as typed); an
    # unknown account must cost the same, or the time would tell which emails exist.
    hasher = PasswordHasher(rounds=10, concurrency=1)
    hashed = await hasher.hash("a good password")
    await hasher.waste_time()

    verify_seconds, waste_seconds = [], []
    # CPU time (the bcrypt threads included): other load on the machine leaves it alone.
    for _ in range(5):
        started = time.process_time()
        await hasher.verify(LIGATURES, hashed)
        verify_seconds.append(time.process_time() - started)
        started = time.process_time()
        await hasher.waste_time(LIGATURES)
        waste_seconds.append(time.process_time() - started)

    # One run instead of two would be a ratio near 0.5.
    assert min(waste_seconds) >= 0.75 * min(verify_seconds), (waste_seconds, verify_seconds)


async def test_the_sync_helper_agrees_with_the_async_hasher_on_every_normal_form() -> None:
    # fastapi-users' `password_helper` slot gets hasher.helper: whatever reaches for it
    # must hash and check exactly as the async path does.
    hasher = PasswordHasher(rounds=4, concurrency=1)
    by_sync = hasher.helper.hash(LIGATURES)
    by_async = await hasher.hash(LIGATURES)

    assert BcryptHasher().verify(unicodedata.normalize("NFKC", LIGATURES), by_sync)
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        typed = unicodedata.normalize(form, NFC_PASSWORD)
        hashed = await hasher.hash(NFC_PASSWORD)
        assert hasher.helper.verify_and_update(typed, hashed) == (True, None), form
    assert await hasher.verify(LIGATURES, by_sync) == (True, None)
    assert hasher.helper.verify_and_update(LIGATURES, by_async) == (True, None)
    assert hasher.helper.verify_and_update("wrong", by_async) == (False, None)


def test_the_sync_helper_upgrades_a_hash_of_the_typed_form_and_refuses_bad_input() -> None:
    helper = PasswordHasher(rounds=4, concurrency=1).helper
    old_hash = BcryptHasher(rounds=4).hash(LIGATURES)  # made before normalisation
    too_long = "x" * (MAX_PASSWORD_BYTES + 1)

    valid, new_hash = helper.verify_and_update(LIGATURES, old_hash)

    assert valid is True and new_hash is not None
    assert BcryptHasher().verify(unicodedata.normalize("NFKC", LIGATURES), new_hash)
    assert helper.verify_and_update(too_long, helper.hash("a good password")) == (False, None)
    assert helper.verify_and_update("a good password", "!locked") == (False, None)
    assert helper.verify_and_update("a good password", "$2b$04$corrupt") == (False, None)
