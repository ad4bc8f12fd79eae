"""Superuser endpoints for service keys: make one (shown once), list them, revoke one."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.api.deps import CurrentSuperuser, EventsDep, SessionDep
from app.api.openapi import VALIDATION_ERROR
from app.api.v1.service_keys.schemas import ServiceKeyCreate, ServiceKeyCreated, ServiceKeyRead
from app.api.v1.users.admin_routes import SUPERUSER_ONLY
from app.api.v1.users.tokens import NO_STORE
from app.core import errors
from app.core.errors import responses
from app.services.service_keys import ServiceKeys

router = APIRouter(prefix="/v1/service-keys", tags=["service keys (superuser)"])


async def get_service_keys(session: SessionDep, events: EventsDep) -> ServiceKeys:
    return ServiceKeys(session, events)


ServiceKeysDep = Annotated[ServiceKeys, Depends(get_service_keys)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceKeyCreated,
    responses={**SUPERUSER_ONLY, **responses(errors.ServiceKeyNameTaken), **VALIDATION_ERROR},
)
async def create_service_key(
    body: ServiceKeyCreate, actor: CurrentSuperuser, keys: ServiceKeysDep, response: Response
) -> ServiceKeyCreated:
    """Make a key another backend uses to call `POST /v1/tokens/introspect`. The answer is
    the only time the key is shown: only its SHA-256 digest is stored."""
    created = await keys.create(body.name, actor_id=actor.id)
    response.headers.update(NO_STORE)
    return ServiceKeyCreated(
        id=created.record.id,
        name=created.record.name,
        key=created.key,
        created_at=created.record.created_at,
    )


@router.get("", response_model=list[ServiceKeyRead], responses=SUPERUSER_ONLY)
async def list_service_keys(_: CurrentSuperuser, keys: ServiceKeysDep) -> list[ServiceKeyRead]:
    """The live keys, oldest first (never the keys themselves)."""
    return [ServiceKeyRead.model_validate(key) for key in await keys.live()]


@router.delete(
    "/{key_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**SUPERUSER_ONLY, **responses(errors.ServiceKeyNotFound)},
)
async def revoke_service_key(
    key_id: uuid.UUID, actor: CurrentSuperuser, keys: ServiceKeysDep
) -> None:
    """Revoke a key: every instance refuses it from the next request on (keys are looked up
    on every call, never cached)."""
    await keys.revoke(key_id, actor_id=actor.id)
