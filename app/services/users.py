"""Account rules, on fastapi-users' UserManager with its known defects designed out.

- hashing runs in worker threads (PasswordHasher), never on the event loop;
- emails are normalised and the database's unique index decides duplicates, so
  concurrent registrations can't both win and a lost race is a 400, not a 500;
- unknown emails, wrong passwords and inactive accounts cost the same hashing work;
- BaseUserManager's own entry points (create, update, authenticate, reset, OAuth...)
  either route through the methods here or refuse with NotImplementedError, so none of
  them can hash on the loop, skip the policy, or commit behind the request's back.
"""

import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import anyio
from fastapi import Request
from fastapi.security import OAuth2PasswordRequestForm
from fastapi_users import BaseUserManager, UUIDIDMixin, schemas
from fastapi_users_db_sqlalchemy import SQLAlchemyUserDatabase
from sqlalchemy.exc import IntegrityError

from app.core import errors
from app.core.events import Emitter, EventType
from app.core.metrics import LOGINS
from app.core.security import PasswordHasher
from app.db.crud import user as crud
from app.db.models import User
from app.services.emails import canonical_email, lookup_email
from app.services.passwords import PasswordPolicy, PasswordProblem
from app.services.sessions import SessionService

# Fields whose changes are reported, and the flag changes that are events of their own.
TRACKED_FIELDS = ("email", "is_active", "is_superuser", "is_verified")
FLAG_EVENTS = {
    ("is_verified", True): EventType.EMAIL_VERIFIED,
    ("is_active", False): EventType.ACCOUNT_DEACTIVATED,
    ("is_active", True): EventType.ACCOUNT_REACTIVATED,
}


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

    async def lock_active_superusers(self) -> Sequence[uuid.UUID]:
        return await crud.lock_active_superusers(self.session)

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
        password_policy: PasswordPolicy,
        events: Callable[[], Emitter],
        sessions: Callable[[Emitter], SessionService],
    ):
        """`events` and `sessions` build the collaborators, on first use (`sessions` gets
        the emitter): fastapi-users' current-user check builds a manager on every
        authenticated request, and most of those only read a token."""
        # Our bcrypt, so even code that reaches for the synchronous helper can't hash
        # with fastapi-users' default (Argon2 first).
        super().__init__(user_db, hasher.helper)
        self.hasher = hasher
        self.password_policy = password_policy
        self._build_events = events
        self._build_sessions = sessions

    @functools.cached_property
    def events(self) -> Emitter:
        return self._build_events()

    @functools.cached_property
    def sessions(self) -> SessionService:
        return self._build_sessions(self.events)

    async def register(
        self,
        *,
        email: str,
        password: str,
        request: Request | None = None,
        is_superuser: bool = False,
    ) -> User:
        """Create an account; privilege flags come only from trusted callers (the CLI)."""
        if problem := await self.password_problem(password, email=email):
            raise errors.InvalidPassword(problem.message, reason=problem.reason)
        hashed_password = await self.hasher.hash(password)
        try:
            user = await self.user_db.create(
                {"email": email, "hashed_password": hashed_password, "is_superuser": is_superuser}
            )
        except IntegrityError as exc:
            raise errors.UserAlreadyExists() from exc
        await self.events.emit(EventType.REGISTERED, user_id=user.id)
        return user

    async def check_credentials(self, *, email: str, password: str) -> User | None:
        """The active user with these credentials, else None after the same hashing work."""
        user = await self.user_db.get_by_email(email)
        await self._release_connection()
        if user is None:
            await self.hasher.waste_time(password)
            await self._login_failed(None, "unknown_email")
            return None
        valid, new_hash = await self.hasher.verify(password, user.hashed_password)
        if not valid or not user.is_active:
            await self._login_failed(user.id, "inactive" if valid else "bad_password")
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
            await self.events.emit_failure(
                EventType.CURRENT_PASSWORD_FAILED, user_id=user.id, actor_id=user.id
            )
            raise errors.CurrentPasswordInvalid()

    async def change(
        self,
        user: User,
        changes: dict[str, Any],
        request: Request | None = None,
        *,
        keep_session: uuid.UUID | None = None,
        actor_id: uuid.UUID | None = None,
        password_reset: bool = False,
    ) -> User:
        """Apply profile changes (`email`, `password`, flags) with the policy checks.

        A new email or password ends every session but `keep_session` (the one making the
        change); deactivation ends them all. `actor_id` is the signed-in account making the
        change (the user, or an admin); each kind of change is emitted as its own event.
        """
        before = {name: getattr(user, name) for name in TRACKED_FIELDS}
        values = dict(changes)
        new_email = values.get("email", user.email)
        if "email" in values and values["email"] == user.email:
            del values["email"]
        elif "email" in values:
            values.setdefault("is_verified", False)  # a new address is unconfirmed
        if (password := values.pop("password", None)) is not None:
            if problem := await self.password_problem(password, email=new_email):
                raise errors.InvalidNewPassword(problem.message, reason=problem.reason)
            values["hashed_password"] = await self.hasher.hash(password)
        if not values:
            return user
        if values.get("is_superuser") is False or values.get("is_active") is False:
            await self._keep_a_superuser(user)
        try:
            updated = await self.user_db.update(user, values)
        except IntegrityError as exc:
            raise errors.EmailTaken() from exc
        if values.get("is_active") is False:
            await self.sessions.revoke_all(user.id)
        elif "email" in values or "hashed_password" in values:
            await self.sessions.revoke_all(user.id, keep=keep_session)
        await self._emit_changes(
            updated,
            before,
            values,
            actor_id=actor_id,
            session_id=keep_session,
            reset=password_reset,
        )
        return updated

    async def password_problem(self, password: str, *, email: str) -> PasswordProblem | None:
        """The policy's verdict, computed in a worker thread: zxcvbn is pure Python and
        takes milliseconds, which the event loop should spend serving others."""
        return await anyio.to_thread.run_sync(
            functools.partial(self.password_policy.problem, password, email=email)
        )

    async def remove(
        self, user: User, request: Request | None = None, *, actor_id: uuid.UUID | None = None
    ) -> None:
        await self._keep_a_superuser(user)
        await self.user_db.delete(user)
        by_admin = actor_id is not None and actor_id != user.id
        await self.events.emit(
            EventType.ADMIN_USER_DELETED if by_admin else EventType.ACCOUNT_DELETED,
            user_id=user.id,
            actor_id=actor_id,
            detail={"email": user.email},
        )

    async def _keep_a_superuser(self, user: User) -> None:
        """Refuse to demote, deactivate or delete the last active superuser (only the CLI
        could then manage accounts). The superusers stay locked until the transaction
        ends, so two superusers removing each other at once can't both pass."""
        if not (user.is_superuser and user.is_active):
            return
        if not set(await self.user_db.lock_active_superusers()) - {user.id}:
            raise errors.LastSuperuser()

    async def _emit_changes(
        self,
        user: User,
        before: dict[str, Any],
        values: dict[str, Any],
        *,
        actor_id: uuid.UUID | None,
        session_id: uuid.UUID | None,
        reset: bool,
    ) -> None:
        common: dict[str, Any] = {
            "user_id": user.id,
            "actor_id": actor_id,
            "session_id": session_id,
        }
        changed = [name for name in TRACKED_FIELDS if getattr(user, name) != before[name]]
        if "hashed_password" in values:
            changed.append("password")
            password_event = EventType.PASSWORD_RESET if reset else EventType.PASSWORD_CHANGED
            # The address is where the notification goes (app/services/notifications.py).
            await self.events.emit(password_event, detail={"email": user.email}, **common)
        if "email" in changed:
            detail = {"old_email": before["email"], "new_email": user.email}
            await self.events.emit(EventType.EMAIL_CHANGED, detail=detail, **common)
        for name in TRACKED_FIELDS:
            flag = getattr(user, name)
            if flag != before[name] and (event := FLAG_EVENTS.get((name, flag))) is not None:
                await self.events.emit(event, **common)
        if actor_id is not None and actor_id != user.id and changed:
            await self.events.emit(
                EventType.ADMIN_USER_UPDATED, detail={"fields": sorted(changed)}, **common
            )

    async def _login_failed(self, user_id: uuid.UUID | None, reason: str) -> None:
        # The login's request fails and rolls back; the record must not.
        await self.events.emit_failure(
            EventType.LOGIN_FAILED, user_id=user_id, detail={"reason": reason}
        )
        LOGINS.labels("inactive" if reason == "inactive" else "bad_credentials").inc()

    async def _release_connection(self) -> None:
        """Call before hashing, when the request has only read so far.

        Ending that transaction returns its connection to the pool, so a burst of logins
        queueing for the hasher can't hold every connection while other requests wait for
        one. (Loaded objects survive: expire_on_commit=False.)
        """
        await self.user_db.session.commit()

    async def on_after_login(
        self,
        user: User,
        request: Request | None = None,
        response: Any = None,
        *,
        session_id: uuid.UUID | None = None,
    ) -> None:
        await self.events.emit(EventType.LOGIN_SUCCEEDED, user_id=user.id, session_id=session_id)
        LOGINS.labels("success").inc()

    # -- BaseUserManager's entry points -----------------------------------------------------
    # The inherited versions hash with the synchronous helper on the event loop, skip the
    # password policy, the events and session revocation, or need fastapi-users' own token
    # secrets (which we don't set). Each routes through the methods above, or refuses.

    async def create(
        self,
        user_create: schemas.BaseUserCreate,
        safe: bool = False,
        request: Request | None = None,
    ) -> User:
        """`register`, for code written against fastapi-users (`safe` drops privileges)."""
        user = await self.register(
            email=canonical_email(user_create.email),
            password=user_create.password,
            request=request,
            is_superuser=not safe and bool(user_create.is_superuser),
        )
        if not safe:  # fastapi-users' privileged form may set these too
            flags = {"is_active": user_create.is_active, "is_verified": user_create.is_verified}
            user = await self.user_db.update(
                user, {flag: value for flag, value in flags.items() if value is not None}
            )
        return user

    async def update(
        self,
        user_update: schemas.BaseUserUpdate,
        user: User,
        safe: bool = False,
        request: Request | None = None,
    ) -> User:
        """`change`, for code written against fastapi-users (`safe` drops privileges)."""
        privileged = {"is_superuser", "is_active", "is_verified"} if safe else set()
        given = user_update.model_dump(exclude_unset=True, exclude={"id", *privileged})
        values = {field: value for field, value in given.items() if value is not None}
        if "email" in values:
            values["email"] = canonical_email(values["email"])
        return await self.change(user, values, request)

    async def _update(self, user: User, update_dict: dict[str, Any]) -> User:
        return await self.change(user, update_dict)

    async def delete(self, user: User, request: Request | None = None) -> None:
        await self.remove(user, request)

    async def authenticate(self, credentials: OAuth2PasswordRequestForm) -> User | None:
        """`check_credentials`: None for an inactive account too, after the same work."""
        return await self.check_credentials(
            email=lookup_email(credentials.username), password=credentials.password
        )

    async def validate_password(self, password: str, user: schemas.BaseUserCreate | User) -> None:
        if problem := await self.password_problem(password, email=user.email):
            raise errors.InvalidPassword(problem.message, reason=problem.reason)

    async def request_verify(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("verification links come from EmailLinks.verification_mail")

    async def verify(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("verification links are checked by EmailLinks.verify_email")

    async def forgot_password(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("reset links come from EmailLinks.password_reset_mail")

    async def reset_password(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("reset links are checked by EmailLinks.reset_password")

    async def oauth_callback(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("no OAuth accounts are stored; a sign-in method starts sessions itself")

    async def oauth_associate_callback(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("no OAuth accounts are stored")


def _refuse(instead: str) -> NoReturn:
    raise NotImplementedError(f"Not available in this service: {instead}.")
