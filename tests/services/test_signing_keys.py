"""Stored signing keys: made once however many instances start, rotated, cleaned up."""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings
from app.db.crud import signing_keys as crud
from app.db.crud.locks import lock_key
from app.db.engine import create_engine, create_sessionmaker
from app.db.models import SigningKey
from app.services.sessions import utcnow
from app.services.signing_keys import (
    KEY_LOCK,
    LOCK_IDLE_SECONDS,
    PREPUBLISH_SECONDS,
    SigningKeys,
)
from tests.conftest import make_settings

pytestmark = pytest.mark.usefixtures("restore_signing_keys")


@asynccontextmanager
async def signing_keys(settings: Settings) -> AsyncIterator[SigningKeys]:
    engine = create_engine(settings)
    try:
        yield SigningKeys(create_sessionmaker(engine), settings)
    finally:
        await engine.dispose()


async def stored(db_engine: AsyncEngine) -> list[Any]:
    async with db_engine.connect() as connection:
        query = select(SigningKey.__table__).order_by(SigningKey.activates_at)
        return list((await connection.execute(query)).mappings())


async def emptied(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(delete(SigningKey))


async def shift(db_engine: AsyncEngine, kid: str, **columns: timedelta) -> None:
    """Move a key's times into the past by the given amounts (time passing)."""
    values = {name: getattr(SigningKey, name) - delta for name, delta in columns.items()}
    async with db_engine.begin() as connection:
        await connection.execute(update(SigningKey).where(SigningKey.kid == kid).values(values))


async def test_instances_starting_at_once_make_one_key(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as first, signing_keys(settings) as second:
        instances = [first, second] * 3

        await asyncio.gather(*(keys.maintain(wait=True) for keys in instances))
        keysets = [await keys.load() for keys in instances]

    rows = await stored(db_engine)
    assert len(rows) == 1 and rows[0]["retired_at"] is None
    assert {keyset.signer(utcnow().timestamp()).kid for keyset in keysets} == {rows[0]["kid"]}


async def test_the_private_key_is_stored_sealed(settings: Settings, db_engine: AsyncEngine) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)

    (row,) = await stored(db_engine)
    assert row["algorithm"] == "EdDSA"
    assert row["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in row["private_key"] and row["private_key"].startswith("gAAAA")  # Fernet


async def test_a_due_key_is_rotated_with_its_successor_published_before_it_signs(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)
        (old,) = await stored(db_engine)
        await shift(db_engine, old["kid"], activates_at=timedelta(days=29))
        await keys.maintain(wait=True)
        assert len(await stored(db_engine)) == 1  # not due yet

        await shift(db_engine, old["kid"], activates_at=timedelta(days=1, seconds=1))
        await keys.maintain(wait=True)
        before, new = await stored(db_engine)
        keyset = await keys.load()

    assert before["kid"] == old["kid"] and before["retired_at"] == new["activates_at"]
    assert new["activates_at"] - utcnow() > timedelta(seconds=PREPUBLISH_SECONDS - 10)
    assert {key.kid for key in keyset.published()} == {old["kid"], new["kid"]}
    now = utcnow().timestamp()
    assert keyset.signer(now).kid == old["kid"]
    assert keyset.signer(now + PREPUBLISH_SECONDS).kid == new["kid"]


async def test_a_retired_key_is_deleted_once_its_last_token_has_expired(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)
        (old,) = await stored(db_engine)
        await keys.rotate()
        overlap = keys.overlap_seconds()
        await shift(db_engine, old["kid"], retired_at=timedelta(seconds=overlap - 30))
        await keys.maintain(wait=True)
        assert old["kid"] in {row["kid"] for row in await stored(db_engine)}

        await shift(db_engine, old["kid"], retired_at=timedelta(seconds=31))
        await keys.maintain(wait=True)

    assert old["kid"] not in {row["kid"] for row in await stored(db_engine)}
    assert overlap > settings.access_token_lifetime_seconds


async def test_rotate_with_revoke_old_keeps_only_the_new_key(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)
        await keys.rotate()
        kid = await keys.rotate(revoke_old=True)

    assert [row["kid"] for row in await stored(db_engine)] == [kid]


async def test_a_key_sealed_under_another_secret_is_replaced_and_stays_published(
    settings: Settings, db_engine: AsyncEngine, migrated_database_url: str
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)
    (old,) = await stored(db_engine)

    another_secret = make_settings(migrated_database_url, secret_key=secrets.token_hex(32))
    async with signing_keys(another_secret) as other_secret:
        await other_secret.maintain(wait=True)
        keyset = await other_secret.load()

    assert {key.kid for key in keyset.published()} == {old["kid"], keyset.signers[0].kid}
    assert keyset.keys[old["kid"]].private is None  # published, but it can't sign with it


async def test_changing_the_algorithm_rotates_to_a_key_of_that_type(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    await emptied(db_engine)
    async with signing_keys(settings) as keys:
        await keys.maintain(wait=True)
    es256: Callable[..., Settings] = settings.model_copy
    async with signing_keys(es256(update={"jwt_algorithm": "ES256"})) as keys:
        await keys.maintain(wait=True)

    assert [row["algorithm"] for row in await stored(db_engine)] == ["EdDSA", "ES256"]


async def test_a_timed_out_wait_for_the_key_lock_names_who_holds_it(
    settings: Settings, db_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A transaction some process left open on the lock shows up as its holder in the log,
    not only as a timeout (503s) on the instance that waited."""
    impatient = settings.model_copy(update={"database_command_timeout_seconds": 0.5})
    async with db_engine.connect() as holder:
        await holder.execute(
            select(func.pg_advisory_xact_lock(lock_key(KEY_LOCK)))
        )  # held until this transaction ends
        holder_pid = (await holder.execute(select(func.pg_backend_pid()))).scalar_one()
        async with signing_keys(impatient) as keys:
            with pytest.raises(TimeoutError):
                await keys.prepared()
        await holder.rollback()

    held_by = [r.getMessage() for r in caplog.records if "signing-key lock" in r.getMessage()]
    assert any(f"backend {holder_pid} " in message for message in held_by), held_by


async def test_a_holder_stalled_with_the_key_lock_holds_the_others_up_only_briefly(
    settings: Settings, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that stops while it holds the key lock (paused, its event loop not turning)
    must not hold every other instance's start and first login until it resumes."""
    await emptied(db_engine)
    resume, stalled = asyncio.Event(), asyncio.Event()
    list_keys = crud.list_keys

    async def stalling_once(session: AsyncSession) -> Any:
        if not stalled.is_set():
            stalled.set()
            await resume.wait()  # the lock taken, the transaction idle
        return await list_keys(session)

    monkeypatch.setattr(crud, "list_keys", stalling_once)
    async with signing_keys(settings) as stuck, signing_keys(settings) as other:
        holder = asyncio.create_task(stuck.maintain(wait=True))
        await stalled.wait()
        started = time.monotonic()
        async with asyncio.timeout(20):
            await other.maintain(wait=True)
        waited = time.monotonic() - started
        resume.set()
        with pytest.raises(DBAPIError):  # PostgreSQL ended its session meanwhile
            await holder

    assert LOCK_IDLE_SECONDS <= waited < LOCK_IDLE_SECONDS + 8
    (row,) = await stored(db_engine)
    assert row["retired_at"] is None
