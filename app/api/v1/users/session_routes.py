"""Sessions: refresh with rotation, logout, and the signed-in user's list of devices."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from app.api.client import client_of
from app.api.deps import (
    ContextDep,
    CurrentSession,
    EventsDep,
    SessionsDep,
    StrategyDep,
    fastapi_users,
)
from app.api.error_handlers import error_response
from app.api.openapi import UNAUTHORIZED
from app.api.v1.users.schemas import RefreshRequest, SessionRead, SessionRename, TokenResponse
from app.api.v1.users.tokens import (
    clear_refresh_cookie,
    cookie_delivery,
    presented_refresh_token,
    token_response,
)
from app.core import errors
from app.core.errors import responses
from app.core.events import EventType
from app.core.security import verify_token
from app.db.models import User

router = APIRouter(prefix="/v1/users", tags=["sessions"])

OptionalUserToken = Annotated[
    tuple[User | None, str | None],
    Depends(fastapi_users.authenticator.current_user_token(optional=True)),
]


@router.post(
    "/refresh",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses=responses(errors.RefreshTokenInvalid, errors.CsrfCheckFailed),
)
async def refresh_session(
    request: Request,
    sessions: SessionsDep,
    strategy: StrategyDep,
    context: ContextDep,
    body: RefreshRequest | None = None,
) -> JSONResponse:
    """Trade a refresh token (JSON body, or the cookie with `X-Refresh-Token-Delivery:
    cookie`) for a new access token and a new refresh token; the old one stops working."""
    presented = presented_refresh_token(request, body.refresh_token if body else None)
    try:
        if presented.value is None:
            raise errors.RefreshTokenInvalid()
        grant = await sessions.refresh(presented.value, client_of(request))
    except errors.RefreshTokenInvalid as exc:
        # Reuse detection too: it is a subclass. Clearing the cookies (the signed-in hint
        # with them) also when none was sent lets a stale hint stop the page's probing.
        response = error_response(exc.status_code, exc.code, exc.message)
        if presented.delivery == "cookie":
            clear_refresh_cookie(response, context.settings)
        return response
    return token_response(grant, strategy, presented.delivery, context.settings)


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, responses=responses(errors.CsrfCheckFailed)
)
async def logout_user(
    request: Request,
    user_token: OptionalUserToken,
    sessions: SessionsDep,
    strategy: StrategyDep,
    context: ContextDep,
    body: RefreshRequest | None = None,
) -> Response:
    """End this session now: its access and refresh tokens stop working. Identify it by
    the bearer token, or by the refresh token (body or cookie). 204 however often it is
    called; the cookie is cleared only for `X-Refresh-Token-Delivery: cookie` requests
    from this site (403 `CSRF_CHECK_FAILED` from another origin)."""
    user, token = user_token
    claims = verify_token(strategy.config, token) if user is not None and token else None
    ended: tuple[uuid.UUID, uuid.UUID] | None
    if user is not None and claims is not None:
        delivery = cookie_delivery(request)
        ended = (user.id, uuid.UUID(claims["sid"]))
    else:
        presented = presented_refresh_token(request, body.refresh_token if body else None)
        delivery = presented.delivery
        owner = await sessions.owner_of(presented.value) if presented.value else None
        ended = None if owner is None else (owner.user_id, owner.id)
    if ended is not None:
        await sessions.log_out(*ended)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    if delivery == "cookie":
        clear_refresh_cookie(response, context.settings)
    return response


@router.get("/me/sessions", response_model=list[SessionRead], responses=UNAUTHORIZED)
async def list_my_sessions(signed_in: CurrentSession, sessions: SessionsDep) -> list[SessionRead]:
    """Your signed-in devices, most recently used first; `current` marks this one."""
    return [
        SessionRead.model_validate(live).model_copy(
            update={"current": live.id == signed_in.session_id}
        )
        for live in await sessions.live_sessions(signed_in.user)
    ]


@router.patch(
    "/me/sessions/{session_id}",
    response_model=SessionRead,
    responses={**UNAUTHORIZED, **responses(errors.SessionNotFound)},
)
async def rename_my_session(
    session_id: uuid.UUID, body: SessionRename, signed_in: CurrentSession, sessions: SessionsDep
) -> SessionRead:
    """Name one of your devices ("Work laptop"), so you can tell it apart in the list;
    `null` or `""` removes the name."""
    renamed = await sessions.rename(signed_in.user.id, session_id, body.name)
    return SessionRead.model_validate(renamed).model_copy(
        update={"current": renamed.id == signed_in.session_id}
    )


@router.delete(
    "/me/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**UNAUTHORIZED, **responses(errors.SessionNotFound)},
)
async def revoke_my_session(
    session_id: uuid.UUID, signed_in: CurrentSession, sessions: SessionsDep, events: EventsDep
) -> None:
    """Sign out one of your devices (this one too, if you pick it)."""
    if not await sessions.revoke(signed_in.user.id, session_id):
        raise errors.SessionNotFound()
    await events.emit(
        EventType.SESSION_REVOKED,
        user_id=signed_in.user.id,
        actor_id=signed_in.user.id,
        session_id=session_id,
    )


@router.delete("/me/sessions", status_code=status.HTTP_204_NO_CONTENT, responses=UNAUTHORIZED)
async def revoke_my_other_sessions(
    signed_in: CurrentSession, sessions: SessionsDep, events: EventsDep
) -> None:
    """Sign out everywhere else: every session but this one ends."""
    revoked = await sessions.revoke_all(signed_in.user.id, keep=signed_in.session_id)
    await events.emit(
        EventType.SESSION_REVOKED,
        user_id=signed_in.user.id,
        actor_id=signed_in.user.id,
        session_id=signed_in.session_id,
        detail={"all_but_current": True, "count": revoked},
    )
