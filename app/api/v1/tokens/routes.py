"""Token introspection for other backends (RFC 7662), authenticated with a service key."""

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.api.deps import ContextDep, CurrentServiceKey, SessionDep
from app.api.v1.tokens.schemas import (
    INTROSPECTION_BODY,
    IntrospectionAnswer,
    IntrospectionRequest,
)
from app.api.v1.users.tokens import NO_STORE
from app.core import errors
from app.core.errors import responses
from app.services.introspection import Introspection

router = APIRouter(prefix="/v1/tokens", tags=["token introspection"])

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 10


async def read_introspection_request(request: Request) -> IntrospectionRequest:
    """The form RFC 7662 prescribes; anything else is a 400 `invalid_request` (OAuth's
    error shape, which clients of this endpoint expect), never a 422."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM:
        raise errors.IntrospectionInvalidRequest()
    try:
        fields = parse_qs(
            (await request.body()).decode(),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:  # not UTF-8, bad percent-escapes, too many fields
        raise errors.IntrospectionInvalidRequest() from None
    tokens, hints = fields.get("token", []), fields.get("token_type_hint", [])
    # RFC 6749, 3.1: a parameter sent twice is an invalid request.
    if len(tokens) != 1 or not tokens[0] or len(hints) > 1:
        raise errors.IntrospectionInvalidRequest()
    return IntrospectionRequest(token=tokens[0], token_type_hint=hints[0] if hints else None)


@router.post(
    "/introspect",
    response_model=IntrospectionAnswer,
    response_model_exclude_none=True,
    responses=responses(
        errors.IntrospectionInvalidRequest, errors.ServiceKeyInvalid, errors.TooManyRequests
    ),
    openapi_extra={"requestBody": INTROSPECTION_BODY},
)
async def introspect_token(
    _: CurrentServiceKey,
    body: Annotated[IntrospectionRequest, Depends(read_introspection_request)],
    session: SessionDep,
    context: ContextDep,
) -> JSONResponse:
    """Is this token live right now? For backends holding a service key (`Authorization:
    Bearer sk_...`), as RFC 7662 describes: `{"active": false}` for anything that is not a
    live token (expired, forged, garbage, or its session ended: logout, password change,
    deactivation...), else the user (`sub`), session (`sid`), expiry and `roles`. Refresh
    tokens are answered too (`token_type: "refresh_token"`), active while not yet rotated."""
    # token_type_hint is read (and must not repeat) but not needed: see Introspection.
    answer = await Introspection(session, context.tokens).introspect(body.token)
    return JSONResponse(answer, headers=NO_STORE)
