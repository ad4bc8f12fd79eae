"""Role rules: superusers create and delete roles and set who has them; each change is an
event (so the audit log has it). A role change ends no session: access tokens show it
from the next refresh, and the app's own checks (require_roles) read the database."""

import uuid
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import errors
from app.core.events import Emitter, EventType
from app.db.crud import role as crud
from app.db.crud.user import lock_user
from app.db.models import Role


class RoleService:
    def __init__(self, session: AsyncSession, events: Emitter) -> None:
        self.session = session
        self.events = events

    async def list_roles(self) -> Sequence[Role]:
        return await crud.list_roles(self.session)

    async def create(self, *, name: str, description: str, actor_id: uuid.UUID) -> Role:
        """A new role; raises RoleAlreadyExists."""
        try:
            role = await crud.create_role(self.session, name=name, description=description)
        except IntegrityError as exc:
            raise errors.RoleAlreadyExists() from exc
        await self.events.emit(EventType.ROLE_CREATED, actor_id=actor_id, detail={"name": name})
        return role

    async def delete(self, name: str, *, actor_id: uuid.UUID) -> None:
        """Delete a role, taking it from every user who has it; raises RoleNotFound."""
        holders = await crud.delete_role(self.session, name=name)
        if holders is None:
            raise errors.RoleNotFound()
        await self.events.emit(
            EventType.ROLE_DELETED, actor_id=actor_id, detail={"name": name, "holders": holders}
        )

    async def set_for_user(
        self, user_id: uuid.UUID, names: Sequence[str], *, actor_id: uuid.UUID
    ) -> list[str]:
        """Make `names` the user's roles (duplicates count once); returns them sorted.
        Raises UnknownRoles (naming them) or UserNotFound."""
        wanted = set(names)
        # Roles before the user: the lock order of app/db/crud/role.py.
        found = await crud.existing_roles(self.session, names=wanted)
        if unknown := wanted - found:
            raise errors.UnknownRoles(sorted(unknown))
        user = await lock_user(self.session, user_id=user_id)
        if user is None:
            raise errors.UserNotFound()
        before = set(user.roles)
        await crud.set_user_roles(self.session, user, names=wanted)
        if wanted != before:
            await self.events.emit(
                EventType.USER_ROLES_CHANGED,
                user_id=user.id,
                actor_id=actor_id,
                detail={
                    "added": sorted(wanted - before),
                    "removed": sorted(before - wanted),
                    "roles": user.roles,
                },
            )
        return list(user.roles)
