"""The only place that knows algorithms and keys: password hashing and access tokens."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi_users.password import PasswordHelper, PasswordHelperProtocol
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.bcrypt import BcryptHasher

from app.core.errors import ServiceBusy
from app.core.keys import KeyRing, KeySet
from app.core.metrics import HASH_QUEUE_WAIT

# Email action tokens (reset and confirmation links) stay HS256 under SECRET_KEY, as the
# refresh-successor HMAC does: only this service ever reads them, so nothing is gained by
# a public key. Access tokens, which other services verify, use the KeyRing below.
EMAILED_LINK_ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "sid", "iat", "exp", "jti")
LEEWAY_SECONDS = 5
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5: rejects) anything past this
T = TypeVar("T")
STAND_IN_PASSWORD = "not-the-password"  # noqa: S105 (verified against the dummy hash only)
# How much lower than the event loop's the hashing threads' CPU priority is (Linux nice
# levels: at 10 the scheduler gives the loop's thread about 9 times their share).
HASHING_NICENESS = 10


def normalize_password(password: str) -> str:
    """NFKC, as NIST SP 800-63B asks: the same password typed on any keyboard, composed or
    decomposed, with full-width or ligature forms, is the same password."""
    return unicodedata.normalize("NFKC", password)


def _fits(password: str) -> bool:
    return len(password.encode()) <= MAX_PASSWORD_BYTES


class NormalizingPasswordHelper(PasswordHelperProtocol):
    """fastapi-users' PasswordHelper with our rules: NFKC first, 72 bytes at most.

    The one place passwords meet bcrypt: PasswordHasher's async methods run these same
    methods in a thread, and fastapi-users' synchronous `password_helper` slot gets this
    object, so no caller can hash or check a password another way.
    """

    def __init__(self, helper: PasswordHelper) -> None:
        self._helper = helper

    def hash(self, password: str) -> str:
        return self._helper.hash(normalize_password(password))

    def verify_and_update(
        self, plain_password: str, hashed_password: str
    ) -> tuple[bool, str | None]:
        """As the stock helper, except that a locked, corrupt or foreign hash matches
        nothing instead of raising."""
        try:
            return self.check(plain_password, hashed_password)
        except (UnknownHashError, ValueError):
            return False, None

    def check(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Whether `password` matches, and a fresh hash when the stored one should be
        replaced (the cost setting changed, or it was made from an un-normalised form).
        Raises UnknownHashError or ValueError for a hash that isn't bcrypt's."""
        normalized = normalize_password(password)
        # Hashes made before passwords were normalised hold the form as typed: try that
        # too (a second bcrypt only for input that NFKC changes), and replace it on a match.
        for form in self.candidates(password):
            valid, new_hash = self._helper.verify_and_update(form, hashed)
            if valid:
                if form != normalized and _fits(normalized):
                    return True, self._helper.hash(normalized)
                return True, new_hash
        return False, None

    @staticmethod
    def candidates(password: str) -> list[str]:
        """The forms of `password` worth a bcrypt run: NFKC, then as typed (those that fit)."""
        return [
            form for form in dict.fromkeys((normalize_password(password), password)) if _fits(form)
        ]

    def generate(self) -> str:
        return self._helper.generate()


class PasswordHasher:
    """bcrypt via fastapi-users' PasswordHelper, run off the event loop.

    bcrypt releases the GIL, so `concurrency` threads of our own hash in parallel while
    the loop keeps serving. They run at a lower CPU priority than the loop: during a burst
    of logins a token check, which needs a few hundred microseconds of the loop, is not
    queued behind whole bcrypt runs on a busy core, and hashing still takes every cycle
    the loop leaves free. Work past `concurrency` waits for a thread; past `queue_limit`
    hashes running and waiting, more are refused at once (ServiceBusy, a 503) instead of
    waiting minutes for their turn.
    """

    def __init__(self, *, rounds: int, concurrency: int, queue_limit: int = 1_000) -> None:
        self._bcrypt = PasswordHelper(PasswordHash((BcryptHasher(rounds=rounds),)))
        self._helper = NormalizingPasswordHelper(self._bcrypt)
        self._threads = ThreadPoolExecutor(
            max_workers=concurrency,
            thread_name_prefix="password-hashing",
            initializer=_yield_cpu_to_the_event_loop,
        )
        self._queue_limit = queue_limit
        self._jobs = 0  # running + waiting, as the event loop sees them
        self._dummy_hash: str | None = None

    def close(self) -> None:
        """Let the threads end once their current hash is done (new work is refused)."""
        self._threads.shutdown(wait=False, cancel_futures=True)

    @property
    def helper(self) -> NormalizingPasswordHelper:
        """The same rules, synchronously, for fastapi-users' `password_helper` slot.

        It hashes on the calling thread: async code uses hash() and verify() instead.
        """
        return self._helper

    async def hash(self, password: str) -> str:
        return await self._in_thread(self._helper.hash, password)

    async def verify(self, password: str, hashed_password: str) -> tuple[bool, str | None]:
        """Check a password; the second value is a fresh hash when the stored one should be
        replaced (the cost setting changed, or it was made from an un-normalised form)."""
        if not _fits(password) and not _fits(normalize_password(password)):
            # Can't be right (we never store such a hash); spend the same time anyway.
            await self.waste_time()
            return False, None
        dummy_hash = await self.prepare()
        return await self._in_thread(self._verify_sync, password, hashed_password, dummy_hash)

    def _verify_sync(self, password: str, hashed: str, dummy: str) -> tuple[bool, str | None]:
        try:
            return self._helper.check(password, hashed)
        except (UnknownHashError, ValueError):
            # A locked, corrupt or foreign hash matches nothing; do the same work anyway.
            for form in self._helper.candidates(password):
                self._bcrypt.verify_and_update(form, dummy)
        return False, None

    async def prepare(self) -> str:
        """Make the stand-in hash at start-up, so no login pays for it (or reveals it)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    async def waste_time(self, password: str = STAND_IN_PASSWORD) -> None:
        """Do the work of verifying `password`, so unknown accounts answer as slowly as known
        ones (input that NFKC changes costs two bcrypt runs either way)."""
        if not _fits(password) and not _fits(normalize_password(password)):
            password = STAND_IN_PASSWORD  # verify() spends one run on such input too
        dummy_hash = await self.prepare()
        await self._in_thread(self._verify_sync, password, dummy_hash, dummy_hash)

    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        if self._jobs >= self._queue_limit:
            raise ServiceBusy()
        self._jobs += 1
        queued = time.perf_counter()

        def timed() -> T:  # runs once a hashing thread is free
            HASH_QUEUE_WAIT.observe(time.perf_counter() - queued)
            return func(*args)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._threads, timed)
        finally:
            self._jobs -= 1


def _yield_cpu_to_the_event_loop() -> None:
    """Lower this thread's scheduling priority (a hashing thread's, once, as it starts).
    On Linux a thread has a nice value of its own; elsewhere this changes nothing. Anyone
    may lower a priority; should a sandbox refuse even that, hashing goes on as before."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)


def new_refresh_token() -> tuple[str, str]:
    """A random opaque refresh token (256 bits) and the digest we store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, refresh_token_digest(token)


def refresh_token_digest(token: str) -> str:
    # A fast hash is right here: the token is random, so there is nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


SERVICE_KEY_PREFIX = "sk_"  # noqa: S105 (a prefix, so a leaked key is recognisable in scans)


def new_service_key() -> tuple[str, str]:
    """A random service key (256 bits after its prefix) and the digest we store instead."""
    key = SERVICE_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, service_key_digest(key)


def service_key_digest(key: str) -> str:
    # Fast and unsalted like refresh tokens: the key is random, there's nothing to guess, and
    # the digest is what the database looks up (so no key is ever compared byte by byte).
    return hashlib.sha256(key.encode()).hexdigest()


REFRESH_SUCCESSOR_CONTEXT = b"refresh-successor:"


def refresh_token_successor(key: str, token: str) -> tuple[str, str]:
    """The token that replaces `token` when it is rotated, and its digest.

    Derived, not drawn: presenting the same token twice (inside the reuse grace window)
    yields the same successor, so a copied token can't fork the session into a second
    chain. HMAC-SHA256 under the server key keeps it unpredictable to anyone holding
    only `token`; the context prefix keeps these MACs apart from JWT signatures made
    with the same key (those always sign a string starting with "eyJ").
    """
    mac = hmac.new(key.encode(), REFRESH_SUCCESSOR_CONTEXT + token.encode(), hashlib.sha256)
    successor = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    return successor, refresh_token_digest(successor)


@dataclass(frozen=True)
class TokenSettings:
    key: str  # SECRET_KEY: action tokens, refresh successors, HS256 access tokens
    issuer: str
    audience: str
    lifetime_seconds: int
    # Access-token keys (app/core/keys.py); None: HS256 under `key` (JWT_ALGORITHM=HS256).
    keys: KeyRing | None = None

    def __post_init__(self) -> None:
        if self.keys is None:
            object.__setattr__(self, "keys", KeyRing(KeySet.symmetric(self.key)))

    @property
    def ring(self) -> KeyRing:
        if self.keys is None:  # never: __post_init__ sets it
            raise RuntimeError("TokenSettings without keys")
        return self.keys


def create_access_token(
    config: TokenSettings, *, subject: str, session_id: str, roles: Sequence[str] = ()
) -> str:
    """Sign a short-lived access JWT for a user (`sub`) within one session (`sid`), with
    the user's role names as they are now (`roles`)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": subject,
        "sid": session_id,
        "iat": now,
        "exp": now + config.lifetime_seconds,
        "jti": uuid.uuid4().hex,
        "roles": list(roles),
    }
    return config.ring.sign(claims)


def create_action_token(
    config: TokenSettings, *, action: str, subject: str, fingerprint: str, lifetime_seconds: int
) -> str:
    """A single-purpose token for an emailed link (`reset-password`, `verify-email`).

    Its audience names the action, so it is never accepted as an access token or for the
    other action; `fingerprint` ties it to the account state it was issued for (the
    password hash, the email), so it stops working once that state changes.
    """
    now = int(time.time())
    claims = {
        "iss": config.issuer,
        "aud": f"{config.audience}:{action}",
        "sub": subject,
        "fpt": fingerprint,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, config.key, algorithm=EMAILED_LINK_ALGORITHM)


def read_action_token(config: TokenSettings, token: str, *, action: str) -> dict[str, Any] | None:
    """The claims of a valid token for `action`, or None."""
    try:
        return jwt.decode(
            token,
            config.key,
            algorithms=[EMAILED_LINK_ALGORITHM],
            audience=f"{config.audience}:{action}",
            issuer=config.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "sub", "fpt", "iat", "exp"]},
        )
    except jwt.PyJWTError:
        return None


def fingerprint(*values: str) -> str:
    """A short digest of account state, for action tokens (never the state itself)."""
    # NUL can't occur in an email or a hash, so ("ab", "c") and ("a", "bc") differ.
    return hashlib.sha256("\0".join(values).encode()).hexdigest()[:32]


def verify_token(
    config: TokenSettings, token: str, *, required: tuple[str, ...] = REQUIRED_CLAIMS
) -> dict[str, Any] | None:
    """Return the claims of a valid access token, or None for anything else."""
    return config.ring.verify(
        token,
        required=required,
        audience=config.audience,
        issuer=config.issuer,
        leeway=LEEWAY_SECONDS,
    )


async def verify_token_reloading(
    config: TokenSettings, token: str, *, required: tuple[str, ...] = REQUIRED_CLAIMS
) -> dict[str, Any] | None:
    """verify_token(), but a token naming a kid this process doesn't hold (a key another
    instance has just made) first reloads the keys (rate-limited) and is checked again."""
    claims = verify_token(config, token, required=required)
    if claims is None and config.ring.names_unknown_key(token):
        await config.ring.reload_for_unknown_key()
        claims = verify_token(config, token, required=required)
    return claims


def derive_key(secret: str, *, purpose: str, length: int = 32) -> bytes:
    """A key of its own for one purpose (HKDF-SHA256 of `secret`, `purpose` as the info):
    what one purpose's key protects can't be read or forged with another's."""
    return HKDF(hashes.SHA256(), length=length, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )
