"""Locks that coordinate work between processes and machines sharing one database."""

import zlib

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession


def lock_key(name: str) -> int:
    """A stable 32-bit key for a named lock (the same in every process)."""
    return zlib.crc32(name.encode())


async def try_transaction_lock(session: AsyncSession, *, name: str) -> bool:
    """Take the named lock until the transaction ends, if no one else holds it.

    PostgreSQL advisory lock; other databases (SQLite in development: one process) always
    grant it.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(select(func.pg_try_advisory_xact_lock(lock_key(name))))
    return bool(taken)


async def transaction_lock(session: AsyncSession, *, name: str) -> None:
    """Wait for the named lock and hold it until the transaction ends (PostgreSQL advisory
    lock; other databases rely on their own write locking)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(lock_key(name))))
