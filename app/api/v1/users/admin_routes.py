"""Superuser endpoints: find, inspect, change and delete any account, see and end its
sessions, send it a password-reset link."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, status

from app.api.client import client_address
from app.api.deps import (
    ContextDep,
    CurrentSuperuser,
    EmailLinksDep,
    EventsDep,
    SessionDep,
    SessionsDep,
    UserManagerDep,
)
from app.api.openapi import UNAUTHORIZED
from app.api.v1.users.schemas import (
    PRINTABLE,
    Accepted,
    SessionRead,
    UserAdminRead,
    UserAdminUpdate,
    UserPage,
)
from app.core import errors
from app.core.errors import responses
from app.core.events import EventType
from app.db.crud import user as crud
from app.db.models import User
from app.services.emails import email_fragment
from app.services.mail import deliver

router = APIRouter(prefix="/v1/users", tags=["users (superuser)"])

# The uuid convertor keeps `/{user_id}` from swallowing the fixed paths beside it: without
# it `PATCH /v1/users/login` reached the admin route (401/403/422) instead of a 405.
USER_PATH = "/{user_id:uuid}"

SUPERUSER_ONLY: dict[int | str, dict[str, Any]] = {
    **UNAUTHORIZED,
    403: {"model": errors.ErrorBody, "description": "The caller is not a superuser."},
}


async def _get_or_404(manager: UserManagerDep, user_id: uuid.UUID) -> User:
    user = await manager.user_db.get(user_id)
    if user is None:
        raise errors.UserNotFound()
    return user


@router.get("/", response_model=UserPage, responses=SUPERUSER_ONLY)
async def list_users(
    _: CurrentSuperuser,
    session: SessionDep,
    email: Annotated[
        str | None, Query(max_length=320, pattern=PRINTABLE, description="Part of the email.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> UserPage:
    """Page through accounts, oldest first, optionally filtered by part of the email."""
    users, total = await crud.list_users(
        session,
        email_contains=email_fragment(email) if email else None,
        limit=limit,
        offset=offset,
    )
    return UserPage(
        items=[UserAdminRead.model_validate(user) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get(
    USER_PATH,
    response_model=UserAdminRead,
    responses={**SUPERUSER_ONLY, **responses(errors.UserNotFound)},
)
async def get_user(user_id: uuid.UUID, _: CurrentSuperuser, manager: UserManagerDep) -> User:
    """One account by id."""
    return await _get_or_404(manager, user_id)


@router.patch(
    USER_PATH,
    response_model=UserAdminRead,
    responses={
        **SUPERUSER_ONLY,
        **responses(
            errors.UserNotFound,
            errors.EmailTaken,
            errors.InvalidNewPassword,
            errors.CannotModifySelf,
            errors.CannotChangeOwnCredentials,
            errors.LastSuperuser,
        ),
    },
)
async def update_user(
    user_id: uuid.UUID,
    body: UserAdminUpdate,
    actor: CurrentSuperuser,
    manager: UserManagerDep,
    request: Request,
) -> User:
    """Change any account, including `is_active` and `is_superuser`. Your own email and
    password change only through `PATCH /v1/users/me`, which asks for your current password."""
    user = await _get_or_404(manager, user_id)
    changes = body.model_dump(exclude_unset=True)
    if user.id == actor.id and (
        changes.get("is_active") is False or changes.get("is_superuser") is False
    ):
        raise errors.CannotModifySelf()
    if user.id == actor.id and (
        changes.get("password") is not None or changes.get("email") not in (None, user.email)
    ):
        # A stolen superuser token alone must not be enough to take the account over.
        raise errors.CannotChangeOwnCredentials()
    return await manager.change(
        user, {k: v for k, v in changes.items() if v is not None}, request, actor_id=actor.id
    )


@router.delete(
    USER_PATH,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **SUPERUSER_ONLY,
        **responses(errors.UserNotFound, errors.CannotModifySelf, errors.LastSuperuser),
    },
)
async def delete_user(
    user_id: uuid.UUID, actor: CurrentSuperuser, manager: UserManagerDep, request: Request
) -> None:
    """Delete any account but your own (use DELETE /v1/users/me for that)."""
    user = await _get_or_404(manager, user_id)
    if user.id == actor.id:
        raise errors.CannotModifySelf()
    await manager.remove(user, request, actor_id=actor.id)


@router.get(
    USER_PATH + "/sessions",
    response_model=list[SessionRead],
    responses={**SUPERUSER_ONLY, **responses(errors.UserNotFound)},
)
async def list_user_sessions(
    user_id: uuid.UUID, _: CurrentSuperuser, manager: UserManagerDep, sessions: SessionsDep
) -> list[SessionRead]:
    """The account's signed-in devices, most recently used first (`current` is always
    false: it marks the caller's own session only in `GET /v1/users/me/sessions`)."""
    user = await _get_or_404(manager, user_id)
    return [SessionRead.model_validate(live) for live in await sessions.live_sessions(user)]


@router.delete(
    USER_PATH + "/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**SUPERUSER_ONLY, **responses(errors.UserNotFound)},
)
async def revoke_user_sessions(
    user_id: uuid.UUID,
    actor: CurrentSuperuser,
    manager: UserManagerDep,
    sessions: SessionsDep,
    events: EventsDep,
) -> None:
    """Sign the account out everywhere: every session ends (yours too, if it is your own
    account)."""
    user = await _get_or_404(manager, user_id)
    revoked = await sessions.revoke_all(user.id)
    await events.emit(
        EventType.SESSION_REVOKED,
        user_id=user.id,
        actor_id=actor.id,
        detail={"all": True, "count": revoked},
    )


@router.post(
    USER_PATH + "/reset-password-email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={
        **SUPERUSER_ONLY,
        **responses(errors.UserNotFound, errors.UserInactive, errors.TooManyRequests),
    },
)
async def send_reset_password_email(
    user_id: uuid.UUID,
    actor: CurrentSuperuser,
    manager: UserManagerDep,
    links: EmailLinksDep,
    context: ContextDep,
    background: BackgroundTasks,
    request: Request,
) -> Accepted:
    """Email the account a password-reset link, as if it had used "forgot password" (and
    within the same limits per recipient)."""
    user = await _get_or_404(manager, user_id)
    await context.throttle.mail(recipient=user.email, address=client_address(request))
    mail = await links.password_reset_mail(user.email, actor_id=actor.id)
    if mail is None:
        raise errors.UserInactive()
    background.add_task(deliver, context.mailer, mail)
    return Accepted(message=f"We sent a password-reset link to {user.email}.")
