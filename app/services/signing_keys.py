"""Access-token signing keys in the database: made at first start, rotated on schedule,
shared by every instance.

Every instance keeps the whole key set in memory (app/core/keys.py KeyRing) and reloads
it every RELOAD_SECONDS, and at once (rate-limited) when a token names a kid it doesn't
know. Changes happen under one database-wide lock, so instances that start, rotate or
clean up together end with one current key: the first makes it, the others, waiting
for the lock, then read it.

A scheduled rotation publishes the new key PREPUBLISH_SECONDS before it signs, so every
instance (and every resource server that refetches the JWKS) knows it before a token
carries its kid. `rotate-signing-key` (incident response) switches at once instead.
"""

import asyncio
import logging
from datetime import datetime, timedelta

from asyncpg.exceptions import PostgresError  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.core.keys import (
    ASYMMETRIC,
    SEALING_PURPOSE,
    KeyRing,
    KeySet,
    LoadedKey,
    Sealer,
    generate_private_key,
    new_kid,
    public_pem,
)
from app.core.security import LEEWAY_SECONDS, derive_key
from app.db.crud import signing_keys as crud
from app.db.crud.locks import end_if_idle, lock_holders, transaction_lock, try_transaction_lock
from app.db.models import SigningKey
from app.services.sessions import as_utc, utcnow

logger = logging.getLogger(__name__)
KEY_LOCK = "auth-service:signing-keys"
RELOAD_SECONDS = 60  # how soon every instance sees a change made elsewhere
PREPUBLISH_SECONDS = 2 * RELOAD_SECONDS
RETRY_SECONDS = 2  # while no key is loaded
# Healthy, it takes milliseconds; a fresh process on a loaded machine (its first
# connections, the first key made) has taken over 2 s. Past this the first request that
# needs the keys loads them (KeyRing.ready). Below the 5 s connect timeout (and asgi
# lifespan tools' 5 s start bound): a database that never answers holds a start 4 s.
START_TIMEOUT_SECONDS = 4
# The work under the key lock takes milliseconds. A holder idle past this has stalled
# (seen: a test runner's event loop paused between tests, holding it 11 s), and PostgreSQL
# ends its session, so every other instance's start and first login go on.
LOCK_IDLE_SECONDS = 2


class SigningKeys:
    """The stored keys of this service: creation, rotation, clean-up, loading."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._sealer = Sealer(derive_key(settings.signing_key(), purpose=SEALING_PURPOSE))

    @property
    def algorithm(self) -> str:
        return self._settings.jwt_algorithm

    def overlap_seconds(self) -> int:
        """How long a retired key stays published: its last token's lifetime and leeway,
        plus the time an instance that hasn't reloaded yet may still sign with it."""
        return self._settings.access_token_lifetime_seconds + LEEWAY_SECONDS + RELOAD_SECONDS

    async def load(self) -> KeySet:
        """Every stored key, with the private parts this SECRET_KEY opens."""
        async with self._sessionmaker() as session:
            rows = await crud.list_keys(session)
        return KeySet.of([self._loaded(row) for row in rows])

    def _loaded(self, row: SigningKey) -> LoadedKey:
        return LoadedKey.from_pem(
            kid=row.kid,
            algorithm=row.algorithm,
            public_key_pem=row.public_key,
            private=self._sealer.open(row.private_key),
            activates_at=as_utc(row.activates_at),
            retired_at=None if row.retired_at is None else as_utc(row.retired_at),
        )

    async def maintain(self, *, wait: bool) -> bool:
        """Make a current key if there is none usable, rotate it when it is due, delete
        retired keys whose last token has expired. With `wait=False` it skips the round
        (False) when another instance holds the lock: that one is doing it."""
        async with self._sessionmaker() as session, session.begin():
            await end_if_idle(session, seconds=LOCK_IDLE_SECONDS)
            if wait:
                await transaction_lock(session, name=KEY_LOCK)
            elif not await try_transaction_lock(session, name=KEY_LOCK):
                return False
            now = utcnow()
            rows = await crud.list_keys(session)
            current = next((row for row in rows if row.retired_at is None), None)
            if current is None or self._sealer.open(current.private_key) is None:
                if current is not None:
                    logger.warning(
                        "SECRET_KEY does not open the current signing key %s: replacing it",
                        current.kid,
                    )
                await self._replace(session, now=now, activates_at=now)
            elif current.algorithm != self.algorithm or as_utc(
                current.activates_at
            ) <= now - timedelta(days=self._settings.signing_key_rotation_days):
                await self._replace(
                    session, now=now, activates_at=now + timedelta(seconds=PREPUBLISH_SECONDS)
                )
            cutoff = now - timedelta(seconds=self.overlap_seconds())
            if deleted := await crud.delete_retired_before(session, cutoff=cutoff):
                logger.info("Deleted %d expired signing keys", deleted)
        return True

    async def rotate(self, *, revoke_old: bool = False) -> str:
        """A new key that signs at once; with `revoke_old` every older key is dropped, so
        the tokens they signed stop working. Returns the new kid."""
        async with self._sessionmaker() as session, session.begin():
            await end_if_idle(session, seconds=LOCK_IDLE_SECONDS)
            await transaction_lock(session, name=KEY_LOCK)
            now = utcnow()
            kid = await self._replace(session, now=now, activates_at=now)
            if revoke_old:
                await crud.delete_retired(session)
        return kid

    async def _replace(
        self, session: AsyncSession, *, now: datetime, activates_at: datetime
    ) -> str:
        if self.algorithm not in ASYMMETRIC:
            raise RuntimeError(f"JWT_ALGORITHM={self.algorithm} keeps no keys in the database")
        private = generate_private_key("EdDSA" if self.algorithm == "EdDSA" else "ES256")
        await crud.retire_current(session, at=activates_at)
        key = await crud.add_key(
            session,
            kid=new_kid(),
            algorithm=self.algorithm,
            public_key=public_pem(private),
            private_key=self._sealer.seal(private),
            now=now,
            activates_at=activates_at,
        )
        logger.info("New %s signing key %s, signing from %s", key.algorithm, key.kid, activates_at)
        return key.kid

    async def prepared(self) -> KeySet:
        """A usable current key, made if need be, and every stored key."""
        try:
            await self.maintain(wait=True)
        except TimeoutError:
            await self._log_lock_holder()
            raise
        return await self.load()

    async def _log_lock_holder(self) -> None:
        """Say who held the key lock when a wait for it timed out: a transaction left open
        by some process would otherwise only show as 503s on this one."""
        try:
            async with asyncio.timeout(1), self._sessionmaker() as session:
                holders = await lock_holders(session, name=KEY_LOCK)
        except Exception as exc:  # only a diagnosis: never hide the timeout itself
            logger.warning("Waiting for the signing-key lock timed out (holder unknown: %r)", exc)
            return
        for holder in holders or ["nobody (the wait was elsewhere)"]:
            logger.warning("Waiting for the signing-key lock timed out; held by %s", holder)

    async def start(self, ring: KeyRing) -> None:
        """Load the keys into `ring`, a usable current key made if need be.

        A database that doesn't answer yet is no reason not to start (/readyz says so):
        the first request that needs the keys loads them (KeyRing.ready), and so does
        keep_current().
        """
        try:
            # Bounded: a database that accepts connections but never answers must not hold
            # up the start.
            async with asyncio.timeout(START_TIMEOUT_SECONDS):
                ring.replace(await self.prepared())
        except (DBAPIError, PostgresError, PoolTimeout, OSError, TimeoutError) as exc:
            logger.error("Signing keys not loaded yet, the database is unavailable: %r", exc)

    async def keep_current(self, ring: KeyRing) -> None:
        """Every RELOAD_SECONDS (every few seconds while none is loaded): a maintenance
        round (by one instance), then a reload."""
        while True:
            await asyncio.sleep(RELOAD_SECONDS if ring.keyset.signers else RETRY_SECONDS)
            try:
                await self.maintain(wait=False)
                ring.replace(await self.load())
            except Exception:  # a database restarting must not stop the loop
                logger.exception("Reloading the signing keys failed; retrying next round")
