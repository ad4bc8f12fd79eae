"""Signing-key rows: list, add, retire, delete."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import SigningKey


async def list_keys(session: AsyncSession) -> Sequence[SigningKey]:
    """Every stored key, the newest activation first."""
    result = await session.scalars(select(SigningKey).order_by(SigningKey.activates_at.desc()))
    return result.all()


async def add_key(
    session: AsyncSession,
    *,
    kid: str,
    algorithm: str,
    public_key: str,
    private_key: str,
    now: datetime,
    activates_at: datetime,
) -> SigningKey:
    key = SigningKey(
        kid=kid,
        algorithm=algorithm,
        public_key=public_key,
        private_key=private_key,
        created_at=now,
        activates_at=activates_at,
    )
    session.add(key)
    await session.flush()
    return key


async def retire_current(session: AsyncSession, *, at: datetime) -> None:
    """Mark the current key retired from `at` on (the moment its successor signs)."""
    await session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None)).values(retired_at=at)
    )


async def delete_retired_before(session: AsyncSession, *, cutoff: datetime) -> int:
    result = await session.execute(
        delete(SigningKey).where(SigningKey.retired_at < cutoff).returning(SigningKey.kid)
    )
    return len(result.all())


async def delete_retired(session: AsyncSession) -> int:
    """Drop every retired key at once (incident response): their tokens stop working."""
    result = await session.execute(
        delete(SigningKey).where(SigningKey.retired_at.is_not(None)).returning(SigningKey.kid)
    )
    return len(result.all())
