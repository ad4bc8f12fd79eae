"""Background clean-up: ended sessions and audit events past retention.

Every worker runs the loop, but each round first takes a database-wide lock for its
transaction: whichever worker gets it does the round, the others skip it. That holds for
any number of processes on any number of machines sharing the database. Rounds are set
to the wall clock (every worker wakes at the same multiples of the interval), so the
workers meet at the lock instead of each running its own round at its own time.
"""

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.db.crud.locks import try_transaction_lock
from app.services.audit import AuditLog
from app.services.sessions import SessionService

logger = logging.getLogger(__name__)
PURGE_LOCK = "auth-service:purge"


@dataclass(frozen=True)
class Purged:
    sessions: int
    audit_events: int


async def purge_round(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> Purged | None:
    """One round of clean-up, or None if another worker is doing it right now."""
    async with sessionmaker() as session, session.begin():
        if not await try_transaction_lock(session, name=PURGE_LOCK):
            return None
        return Purged(
            sessions=await SessionService(session, settings).purge(),
            audit_events=await AuditLog(session).purge(
                retention_days=settings.audit_retention_days
            ),
        )


def seconds_to_next_round(interval_seconds: int, now: float) -> float:
    """Until the next multiple of the interval since the epoch: the same moment in every
    worker whose clock is right."""
    return interval_seconds - now % interval_seconds


async def purge_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """A purge round every SESSION_PURGE_INTERVAL_SECONDS, for the app's lifetime."""
    while True:
        await asyncio.sleep(
            seconds_to_next_round(settings.session_purge_interval_seconds, time.time())
        )
        try:
            purged = await purge_round(sessionmaker, settings)
        except Exception:  # a failed round (database restarting) must not stop the loop
            logger.exception("Purge failed; retrying next round")
            continue
        if purged is None:
            logger.debug("Purge round skipped: another worker is running it")
        else:
            logger.info(
                "Purged %d ended sessions and %d old audit events",
                purged.sessions,
                purged.audit_events,
            )
