"""Account rules, on fastapi-users' UserManager with its known defects designed out.

- hashing runs in worker threads (PasswordHasher), never on the event loop;
- emails are normalised and the database's unique index decides duplicates, so
  concurrent registrations can't both win and a lost race is a 400, not a 500;
- unknown emails, wrong passwords and inactive accounts cost the same hashing work.
"""

import uuid
from typing import Any

from fastapi import Request
from fastapi_users import BaseUserManager, UUIDIDMixin
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy.exc import IntegrityError

from app.core import errors
from app.core.security import PasswordHasher
from app.db.crud import user as crud
from app.db.models import User
from app.plugins import UserEvents
from app.services.passwords import password_problem
from app.services.sessions import SessionService


class UserDatabase(SQLAlchemyUserDatabase[User, uuid.UUID]):
    """fastapi-users' adapter, routed through our crud so it neither commits nor
    compares lower(email) against an index it can't use."""

    async def get(self, id: uuid.UUID) -> User | None:
        return await crud.get_user(self.session, user_id=id)

    async def lock(self, id: uuid.UUID) -> User | None:
        """The user, locked until this request's transaction ends."""
        return await crud.lock_user(self.session, user_id=id)

    async def get_by_email(self, email: str) -> User | None:
        return await crud.get_user_by_email(self.session, email=email)

    async def create(self, create_dict: dict[str, Any]) -> User:
        return await crud.create_user(self.session, **create_dict)

    async def update(self, user: User, update_dict: dict[str, Any]) -> User:
        return await crud.update_user(self.session, user, values=update_dict)

    async def delete(self, user: User) -> None:
        await crud.delete_user(self.session, user)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    user_db: UserDatabase

    def __init__(
        self,
        user_db: UserDatabase,
        *,
        hasher: PasswordHasher,
        events: UserEvents,
        sessions: SessionService,
    ):
        super().__init__(user_db)
        self.hasher = hasher
        self.events = events
        self.sessions = sessions

    async def register(
        self,
        *,
        email: str,
        password: str,
        request: Request | None = None,
        is_superuser: bool = False,
    ) -> User:
        """Create an account; privilege flags come only from trusted callers (the CLI)."""
        if problem := password_problem(password, email=email):
            raise errors.InvalidPassword(problem)
        hashed_password = await self.hasher.hash(password)
        try:
            user = await self.user_db.create(
                {"email": email, "hashed_password": hashed_password, "is_superuser": is_superuser}
            )
        except IntegrityError as exc:
            raise errors.UserAlreadyExists() from exc
        await self.events.emit("user_registered", user, request)
        return user

    async def check_credentials(self, *, email: str, password: str) -> User | None:
        """The active user with these credentials, else None after the same hashing work."""
        user = await self.user_db.get_by_email(email)
        await self._release_connection()
        if user is None:
            await self.hasher.waste_time()
            return None
        valid, new_hash = await self.hasher.verify(password, user.hashed_password)
        if not valid or not user.is_active:
            return None
        if new_hash is not None:  # the cost setting changed since this hash was made
            await self.user_db.update(user, {"hashed_password": new_hash})
        return user

    async def require_password(self, user: User, current_password: str | None) -> None:
        """Sensitive changes need the current password, so a stolen token alone is not enough."""
        if not current_password:
            raise errors.CurrentPasswordRequired()
        await self._release_connection()
        valid, _ = await self.hasher.verify(current_password, user.hashed_password)
        if not valid:
            raise errors.CurrentPasswordInvalid()

    async def change(
        self,
        user: User,
        changes: dict[str, Any],
        request: Request | None = None,
        *,
        keep_session: uuid.UUID | None = None,
    ) -> User:
        """Apply profile changes (`email`, `password`, flags) with the policy checks.

        A new email or password ends every session but `keep_session` (the one making the
        change); deactivation ends them all.
        """
        values = dict(changes)
        new_email = values.get("email", user.email)
        if "email" in values and values["email"] == user.email:
            del values["email"]
        elif "email" in values:
            values.setdefault("is_verified", False)  # a new address is unconfirmed
        if (password := values.pop("password", None)) is not None:
            if problem := password_problem(password, email=new_email):
                raise errors.InvalidNewPassword(problem)
            values["hashed_password"] = await self.hasher.hash(password)
        if not values:
            return user
        try:
            updated = await self.user_db.update(user, values)
        except IntegrityError as exc:
            raise errors.EmailTaken() from exc
        if values.get("is_active") is False:
            await self.sessions.revoke_all(user.id)
        elif "email" in values or "hashed_password" in values:
            await self.sessions.revoke_all(user.id, keep=keep_session)
        await self.events.emit("user_updated", updated, request)
        return updated

    async def remove(self, user: User, request: Request | None = None) -> None:
        await self.user_db.delete(user)
        await self.events.emit("user_deleted", user, request)

    async def _release_connection(self) -> None:
        """Call before hashing, when the request has only read so far.

        Ending that transaction returns its connection to the pool, so a burst of logins
        queueing for the hasher can't hold every connection while other requests wait for
        one. (Loaded objects survive: expire_on_commit=False.)
        """
        await self.user_db.session.commit()

    async def on_after_login(
        self, user: User, request: Request | None = None, response: Any = None
    ) -> None:
        await self.events.emit("user_logged_in", user, request)
