"""User queries. They take a session, flush, and never commit: the request owns the transaction."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import User, user_email_column, user_id_column


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def lock_user(session: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    """The user, row-locked until the transaction ends, as committed by whoever held the
    lock before: a check-then-change (a reset link's single use) can't run twice at once."""
    statement = (
        select(User)
        .where(user_id_column == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def lock_active_superusers(session: AsyncSession) -> Sequence[uuid.UUID]:
    """The active superusers' ids, their rows locked until the transaction ends (in id
    order, so two such transactions queue instead of deadlocking)."""
    statement = (
        select(user_id_column)
        .where(User.__table__.c.is_superuser.is_(True), User.__table__.c.is_active.is_(True))
        .order_by(user_id_column)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    # Same expression as the unique index uq_users_email_lower, so the planner uses it.
    statement = select(User).where(func.lower(user_email_column) == email.lower())
    return (await session.execute(statement)).scalar_one_or_none()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    hashed_password: str,
    is_superuser: bool = False,
    is_verified: bool = False,
) -> User:
    """Insert a user; raises IntegrityError if the email is taken (in any letter case)."""
    user = User(
        email=email,
        hashed_password=hashed_password,
        is_active=True,
        is_superuser=is_superuser,
        is_verified=is_verified,
    )
    # A savepoint keeps the request's transaction usable if the insert is rejected.
    async with session.begin_nested():
        session.add(user)
    return user


async def update_user(session: AsyncSession, user: User, *, values: dict[str, Any]) -> User:
    """Apply `values` to `user`; raises IntegrityError if a new email is taken."""
    async with session.begin_nested():
        for field, value in values.items():
            setattr(user, field, value)
    return user


async def delete_user(session: AsyncSession, user: User) -> None:
    await session.delete(user)
    await session.flush()


async def list_users(
    session: AsyncSession, *, email_contains: str | None, limit: int, offset: int
) -> tuple[Sequence[User], int]:
    """A page of users, oldest first, and how many match in total."""
    statement = select(User)
    if email_contains:
        pattern = email_contains.lower()
        statement = statement.where(user_email_column.contains(pattern, autoescape=True))
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    page = await session.scalars(
        statement.order_by(User.created_at, user_id_column).limit(limit).offset(offset)
    )
    return page.all(), total or 0
