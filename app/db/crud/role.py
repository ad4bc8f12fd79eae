"""Role queries. user_roles is the record of truth; users.roles is its sorted copy, which
every function here that changes one changes in the same transaction.

Locks are taken roles first, then users, by every writer: giving a role (which must not
race its deletion) and deleting one (which must find every holder) wait for each other
instead of deadlocking or leaving a copy behind.
"""

import uuid
from collections.abc import Collection, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Role, User, UserRole, user_id_column


async def list_roles(session: AsyncSession) -> Sequence[Role]:
    return (await session.scalars(select(Role).order_by(Role.name))).all()


async def create_role(session: AsyncSession, *, name: str, description: str) -> Role:
    """Insert a role; raises IntegrityError if the name is taken."""
    role = Role(name=name, description=description)
    # A savepoint keeps the request's transaction usable if the insert is rejected.
    async with session.begin_nested():
        session.add(role)
    return role


async def delete_role(session: AsyncSession, *, name: str) -> int | None:
    """Delete a role and take it from its holders; None if there is no such role, else
    how many users had it."""
    locked = await session.scalar(select(Role.name).where(Role.name == name).with_for_update())
    if locked is None:
        return None
    # With the role locked no one can be given it, so this finds every holder.
    holders = select(UserRole.user_id).where(UserRole.role_name == name)
    rows = (
        await session.execute(
            select(user_id_column, User.roles)
            .where(user_id_column.in_(holders))
            .order_by(user_id_column)  # one lock order for concurrent deletions
            .with_for_update(of=User)
        )
    ).all()
    await session.execute(delete(Role).where(Role.name == name))  # user_roles cascade
    if rows:
        # The table, not the entity: a plain executemany, one statement for every holder.
        users = cast(Table, User.__table__)
        await session.execute(
            update(users)
            .where(users.c.id == bindparam("uid"))
            .values(roles=bindparam("new_roles")),
            [{"uid": uid, "new_roles": [r for r in roles if r != name]} for uid, roles in rows],
        )
    return len(rows)


async def existing_roles(session: AsyncSession, *, names: Collection[str]) -> set[str]:
    """Those of `names` that are roles, share-locked so none is deleted before the
    transaction ends."""
    if not names:
        return set()
    statement = select(Role.name).where(Role.name.in_(names)).with_for_update(read=True)
    return set((await session.scalars(statement)).all())


async def set_user_roles(session: AsyncSession, user: User, *, names: Collection[str]) -> None:
    """Make `names` (existing roles; lock them first) the user's whole set of roles. The
    user must be row-locked (crud.user.lock_user), so two changes can't interleave."""
    wanted = sorted(set(names))
    current = set(user.roles)
    if removed := current - set(wanted):
        await session.execute(
            delete(UserRole).where(
                UserRole.user_id == user.id, UserRole.role_name.in_(sorted(removed))
            )
        )
    if added := set(wanted) - current:
        await session.execute(
            insert(UserRole), [{"user_id": user.id, "role_name": name} for name in sorted(added)]
        )
    user.roles = wanted  # a new list: the JSON column sees assignments, not mutations
    await session.flush()


async def roles_of(session: AsyncSession, *, user_id: uuid.UUID) -> list[str]:
    """The user's role names, sorted (empty for an unknown user)."""
    roles = await session.scalar(select(User.roles).where(user_id_column == user_id))
    return list(roles or [])
