"""Superuser endpoints for roles: list, create and delete them, set a user's roles."""

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from app.api.deps import CurrentSuperuser, RolesDep
from app.api.openapi import VALIDATION_ERROR
from app.api.v1.roles.schemas import (
    MAX_ROLES_PER_REQUEST,
    ROLE_NAME_PATTERN,
    RoleCreate,
    RoleName,
    RoleRead,
)
from app.api.v1.users.admin_routes import SUPERUSER_ONLY, USER_PATH
from app.core import errors
from app.core.errors import responses
from app.db.models import ROLE_NAME_LENGTH, Role

router = APIRouter(tags=["roles (superuser)"])


@router.get("/v1/roles", response_model=list[RoleRead], responses=SUPERUSER_ONLY)
async def list_roles(_: CurrentSuperuser, roles: RolesDep) -> Sequence[Role]:
    """Every role, by name."""
    return await roles.list_roles()


@router.post(
    "/v1/roles",
    status_code=status.HTTP_201_CREATED,
    response_model=RoleRead,
    responses={**SUPERUSER_ONLY, **responses(errors.RoleAlreadyExists), **VALIDATION_ERROR},
)
async def create_role(body: RoleCreate, actor: CurrentSuperuser, roles: RolesDep) -> Role:
    """Create a role. Names are lowercase (`editor`, `billing:read`) and can't be renamed."""
    return await roles.create(name=body.name, description=body.description, actor_id=actor.id)


@router.delete(
    "/v1/roles/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**SUPERUSER_ONLY, **responses(errors.RoleNotFound), **VALIDATION_ERROR},
)
async def delete_role(
    name: Annotated[str, Path(max_length=ROLE_NAME_LENGTH, pattern=ROLE_NAME_PATTERN)],
    actor: CurrentSuperuser,
    roles: RolesDep,
) -> None:
    """Delete a role; every user who had it loses it (their sessions go on, and their
    access tokens drop it at the next refresh)."""
    await roles.delete(name, actor_id=actor.id)


@router.put(
    "/v1/users" + USER_PATH + "/roles",
    response_model=list[str],
    responses={
        **SUPERUSER_ONLY,
        **responses(errors.UnknownRoles, errors.UserNotFound),
        **VALIDATION_ERROR,
    },
)
async def set_user_roles(
    user_id: uuid.UUID,
    names: Annotated[
        list[RoleName],
        Body(max_length=MAX_ROLES_PER_REQUEST, examples=[["editor", "billing:read"]]),
    ],
    actor: CurrentSuperuser,
    roles: RolesDep,
) -> list[str]:
    """Replace the account's roles with these (an empty list removes them all); answers
    them sorted. Its sessions go on: access tokens show the change from their next refresh,
    `GET /v1/users/me` and `require_roles` checks at once."""
    return await roles.set_for_user(user_id, names, actor_id=actor.id)
