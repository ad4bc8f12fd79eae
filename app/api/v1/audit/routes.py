"""The audit log: your own account's events, and every account's for superusers."""

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, Field

from app.api.deps import CurrentSuperuser, CurrentUser, SessionDep
from app.api.openapi import UNAUTHORIZED, VALIDATION_ERROR
from app.api.v1.audit.schemas import AuditEventPage, AuditEventRead, KnownEventTypes, QueryTime
from app.api.v1.users.admin_routes import SUPERUSER_ONLY
from app.db.models import AuditEvent
from app.services.audit import AuditLog

# /v1/users/me/events must be mounted before /v1/users/{user_id} (app/main.py).
me_router = APIRouter(prefix="/v1/users", tags=["audit log"])

Limit = Annotated[int, Query(ge=1, le=100, description="Events per page.")]
Offset = Annotated[int, Query(ge=0, le=2**31 - 1, description="Events to skip.")]


async def get_audit_log(session: SessionDep) -> AuditLog:
    return AuditLog(session)


AuditLogDep = Annotated[AuditLog, Depends(get_audit_log)]


def _page(found: Sequence[AuditEvent], limit: int, offset: int) -> AuditEventPage:
    # One row more than asked for tells whether there is a next page, without a count.
    return AuditEventPage(
        items=[AuditEventRead.model_validate(event) for event in found[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(found) > limit else None,
    )


@me_router.get(
    "/me/events", response_model=AuditEventPage, responses={**UNAUTHORIZED, **VALIDATION_ERROR}
)
async def list_my_events(
    user: CurrentUser, audit_log: AuditLogDep, limit: Limit = 20, offset: Offset = 0
) -> AuditEventPage:
    """Your account's security events (logins, failed logins, password and email changes,
    sessions ended...), newest first."""
    found = await audit_log.events_of(user.id, limit=limit + 1, offset=offset)
    return _page(found, limit, offset)


def search_router(event_types: Sequence[str]) -> APIRouter:
    """`GET /v1/audit-events` for an app whose events are `event_types` (the core's and
    its enabled plugins'): the `type` filter takes, and its schema lists, only those."""
    known = KnownEventTypes(event_types)
    router = APIRouter(prefix="/v1/audit-events", tags=["audit log"])

    @router.get("", response_model=AuditEventPage, responses={**SUPERUSER_ONLY, **VALIDATION_ERROR})
    async def search_events(
        _: CurrentSuperuser,
        audit_log: AuditLogDep,
        user_id: Annotated[uuid.UUID | None, Query(description="Events of this account.")] = None,
        type: Annotated[
            Annotated[
                str, AfterValidator(known.check), Field(json_schema_extra={"enum": known.names})
            ]
            | None,
            Query(description="Events of this type: the core's, or one an enabled plugin adds."),
        ] = None,
        since: Annotated[QueryTime | None, Query(description="From this time (inclusive).")] = None,
        until: Annotated[QueryTime | None, Query(description="Before this time.")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
    ) -> AuditEventPage:
        """Every account's security events, newest first, filtered. A time without an offset
        is UTC."""
        found = await audit_log.search(
            user_id=user_id, type=type, since=since, until=until, limit=limit + 1, offset=offset
        )
        return _page(found, limit, offset)

    return router
