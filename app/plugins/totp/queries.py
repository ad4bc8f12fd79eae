"""Two-step sign-in's queries: they take a session, flush, and never commit."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.totp.models import TotpChallenge, TotpCredential, TotpRecoveryCode


async def get_credential(
    session: AsyncSession, *, user_id: uuid.UUID, lock: bool = False
) -> TotpCredential | None:
    """The user's secret; with `lock`, row-locked until the transaction ends (a code is
    then checked against the secret that gets confirmed, not one an enrolment replaced)."""
    query = select(TotpCredential).where(TotpCredential.user_id == user_id)
    if lock:
        query = query.with_for_update()
    found: TotpCredential | None = await session.scalar(
        query.execution_options(populate_existing=True)
    )
    return found


async def put_pending(
    session: AsyncSession, *, user_id: uuid.UUID, sealed_secret: bytes, now: datetime
) -> bool:
    """Store a new unconfirmed secret, replacing an unconfirmed one; False (nothing
    written) if the user's secret is already confirmed. One statement: enrolments racing
    end with one of their secrets, never an error."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TotpCredential).values(
        user_id=user_id, sealed_secret=sealed_secret, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[TotpCredential.user_id],
        set_={"sealed_secret": sealed_secret, "created_at": now, "last_used_step": None},
        where=TotpCredential.confirmed_at.is_(None),
    )
    written = await session.scalar(statement.returning(TotpCredential.user_id))
    return written is not None


async def confirm(session: AsyncSession, *, user_id: uuid.UUID, step: int, now: datetime) -> bool:
    """Turn a pending secret on, with `step` as its first used step; False if it isn't
    pending any more."""
    confirmed = await session.scalar(
        update(TotpCredential)
        .where(TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_(None))
        .values(confirmed_at=now, last_used_step=step)
        .returning(TotpCredential.user_id)
    )
    return confirmed is not None


async def use_step(session: AsyncSession, *, user_id: uuid.UUID, step: int) -> bool:
    """Record `step` as used if it is later than the last used one: of two logins racing
    with one code, one wins and the other is a replay."""
    used = await session.scalar(
        update(TotpCredential)
        .where(
            TotpCredential.user_id == user_id,
            TotpCredential.confirmed_at.is_not(None),
            or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .returning(TotpCredential.user_id)
    )
    return used is not None


async def remove_all(session: AsyncSession, *, user_id: uuid.UUID) -> bool:
    """Delete the user's secret, recovery codes and pending logins; True if two-step was on."""
    # The secret first: it waits for new recovery codes being made (which lock it), so
    # the codes' DELETE after it sees them, rather than leaving them behind.
    removed = await session.execute(
        delete(TotpCredential)
        .where(TotpCredential.user_id == user_id)
        .returning(TotpCredential.confirmed_at)
    )
    was_on = any(confirmed_at is not None for confirmed_at in removed.scalars())
    await session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id))
    await session.execute(delete(TotpChallenge).where(TotpChallenge.user_id == user_id))
    return was_on


async def replace_recovery_codes(
    session: AsyncSession, *, user_id: uuid.UUID, digests: Sequence[str]
) -> None:
    await session.execute(delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user_id))
    session.add_all(TotpRecoveryCode(user_id=user_id, digest=digest) for digest in digests)
    await session.flush()


async def use_recovery_code(session: AsyncSession, *, user_id: uuid.UUID, digest: str) -> bool:
    """Spend the code: one DELETE, so two logins racing with it can't both succeed."""
    used = await session.scalar(
        delete(TotpRecoveryCode)
        .where(TotpRecoveryCode.user_id == user_id, TotpRecoveryCode.digest == digest)
        .returning(TotpRecoveryCode.id)
    )
    return used is not None


async def count_recovery_codes(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(TotpRecoveryCode)
        .where(TotpRecoveryCode.user_id == user_id)
    )
    return count or 0


async def add_challenge(session: AsyncSession, challenge: TotpChallenge) -> None:
    session.add(challenge)
    await session.flush()


async def lock_challenge(
    session: AsyncSession, *, token_digest: str, now: datetime
) -> TotpChallenge | None:
    """The live challenge, row-locked until the transaction ends: attempts with one token
    take turns, so its attempt count can't be outrun."""
    found: TotpChallenge | None = await session.scalar(
        select(TotpChallenge)
        .where(TotpChallenge.token_digest == token_digest, TotpChallenge.expires_at > now)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


async def delete_challenge(session: AsyncSession, challenge: TotpChallenge) -> None:
    await session.delete(challenge)
    await session.flush()


async def purge_challenges(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(TotpChallenge).where(TotpChallenge.expires_at < before))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def delete_user_challenges(session: AsyncSession, *, user_id: uuid.UUID) -> int:
    """End every pending second step of the user's logins."""
    result = await session.execute(delete(TotpChallenge).where(TotpChallenge.user_id == user_id))
    return result.rowcount or 0  # type: ignore[attr-defined]
