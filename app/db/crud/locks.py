"""Locks that coordinate work between processes and machines sharing one database."""

import zlib

from sqlalchemy import func, select, text
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


async def end_if_idle(session: AsyncSession, *, seconds: float) -> None:
    """Have PostgreSQL end this session, and with it the transaction and its locks, should
    the transaction sit idle longer than `seconds` (this transaction only). A holder that
    stalls mid-way (a paused process, an event loop that stopped turning) then holds the
    others up for that long, not until it resumes. Other databases: nothing."""
    if session.get_bind().dialect.name == "postgresql":
        milliseconds = max(1, round(seconds * 1000))
        await session.execute(
            text(f"SET LOCAL idle_in_transaction_session_timeout = {milliseconds}")
        )


async def lock_holders(session: AsyncSession, *, name: str) -> list[str]:
    """Who holds the named lock, for a log line: backend pid, application, client address,
    state and how long its transaction has been open (PostgreSQL; elsewhere nobody)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = await session.execute(
        text(
            "SELECT a.pid, a.application_name, a.client_addr, a.client_port, a.state,"
            " extract(epoch FROM now() - a.xact_start) AS seconds"
            " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted"
            # A bigint key shows as classid (high half), objid (low half), objsubid 1.
            " AND l.classid::bigint = 0 AND l.objid::bigint = :key AND l.objsubid = 1"
        ),
        {"key": lock_key(name)},
    )
    return [
        f"backend {row.pid} ({row.application_name or 'no application name'}, "
        f"{row.client_addr}:{row.client_port}, {row.state}, transaction open "
        f"{row.seconds or 0:.1f} s)"
        for row in rows
    ]
