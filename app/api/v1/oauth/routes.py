"""The standard OAuth 2.0 face of the service (RFC 6749 token endpoint, RFC 7009
revocation), for client libraries that speak it: over the same services as the JSON API,
whose routes stay as they are. Paths and fields are a fixed contract."""

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.api.client import client_of
from app.api.deps import SessionDep, SessionsDep, StrategyDep
from app.api.v1.oauth.form import FORM_TYPE, read_form
from app.api.v1.oauth.grants import CoreGrantsDep
from app.api.v1.users.schemas import TokenResponse
from app.core import errors
from app.core.security import verify_token_reloading
from app.plugins.host import GrantRequest, LimiterDep, SignInDep
from app.plugins.plugin import GrantHandler

router = APIRouter(prefix="/v1/oauth", tags=["oauth"])


async def get_grants(request: Request) -> Mapping[str, GrantHandler]:
    """The grant types the enabled plugins serve (app/plugins/loader.py)."""
    grants: Mapping[str, GrantHandler] = request.app.state.grants
    return grants


PluginGrantsDep = Annotated[Mapping[str, GrantHandler], Depends(get_grants)]


def _form(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    client_id = {"type": "string", "description": "Optional: all clients are public."}
    schema = {
        "type": "object",
        "required": required,
        "properties": {**properties, "client_id": client_id},
    }
    return {"requestBody": {"required": True, "content": {FORM_TYPE: {"schema": schema}}}}


TOKEN_FORM = _form(
    ["grant_type"],
    {
        "grant_type": {
            "type": "string",
            "description": "`password`, `refresh_token`, or one an enabled plugin serves "
            "(qr_login: `urn:ietf:params:oauth:grant-type:device_code`).",
            "examples": ["password"],
        },
        "username": {"type": "string", "description": "password grant: the account's email."},
        "password": {"type": "string", "format": "password", "description": "password grant."},
        "refresh_token": {"type": "string", "description": "refresh_token grant."},
        "device_code": {"type": "string", "description": "device code grant (qr_login)."},
        "scope": {"type": "string", "description": "Ignored: tokens have no scopes."},
    },
)
REVOKE_FORM = _form(
    ["token"],
    {
        "token": {"type": "string", "description": "A refresh token or an access token."},
        "token_type_hint": {
            "type": "string",
            "description": "`refresh_token` or `access_token`; optional, and a wrong one "
            "does no harm.",
        },
    },
)
CLIENT_ERRORS = (errors.InvalidRequest, errors.InvalidClient)


@router.post(
    "/token",
    response_model=None,
    responses={
        200: {
            "model": TokenResponse,
            "description": "Signed in: the access token and the refresh token (always in "
            "the body).",
        },
        **errors.oauth_responses(
            *CLIENT_ERRORS,
            errors.UnsupportedGrantType,
            errors.BadCredentials,
            errors.SecondStepRequired,
            errors.RefreshTokenInvalid,
            errors.TooManyRequests,
        ),
    },
    openapi_extra=TOKEN_FORM,
)
async def token(
    request: Request,
    core: CoreGrantsDep,
    plugin_grants: PluginGrantsDep,
    session: SessionDep,
    sign_in: SignInDep,
    limiter: LimiterDep,
) -> Response:
    """The OAuth 2.0 token endpoint (RFC 6749), for public clients (`client_id` optional,
    no client secret); a form, each parameter once. Grants: `password` (`username` is
    the email) and `refresh_token`, with the limits, lockout, rotation and reuse detection
    of `POST /v1/users/login` and `/refresh`, and those of enabled plugins (qr_login:
    RFC 8628's device code, as `POST /v1/qr-login/token`). Errors are RFC 6749 §5.2's
    `error` and `error_description` beside our `code` and `message`; an account with
    two-step sign-in gets `invalid_grant` with the code `LOGIN_SECOND_STEP_REQUIRED`."""
    try:
        params = await read_form(request)
        grant_type = params.get("grant_type")
        if grant_type is None:
            raise errors.InvalidRequest("The grant_type parameter is missing.")
        handler = core.handlers().get(grant_type) or plugin_grants.get(grant_type)
        if handler is None:
            raise errors.UnsupportedGrantType()
        grant = GrantRequest(
            grant_type=grant_type,
            params=params,
            client=client_of(request),
            session=session,
            sign_in=sign_in,
            limiter=limiter,
        )
        return await handler(grant)
    except errors.AppError as exc:
        # Raised on, not answered here: the request's transaction rolls back.
        raise errors.OAuthError.of(exc) from exc


@router.post(
    "/revoke",
    response_model=None,
    response_class=Response,  # an empty 200: the client ignores the body (RFC 7009 §2.2)
    responses={
        200: {"description": "Revoked, or there was nothing to revoke (RFC 7009 §2.2)."},
        **errors.oauth_responses(*CLIENT_ERRORS),
    },
    openapi_extra=REVOKE_FORM,
)
async def revoke(request: Request, sessions: SessionsDep, strategy: StrategyDep) -> Response:
    """Token revocation (RFC 7009): `token`, a refresh token or an access token, ends its
    session at once (its other tokens stop working too), as `POST /v1/users/logout`
    does. 200 also for a token that is unknown, expired or already revoked."""
    try:
        params = await read_form(request)
        token = params.get("token")
        if token is None:
            raise errors.InvalidRequest("The token parameter is missing.")
    except errors.AppError as exc:
        raise errors.OAuthError.of(exc) from exc
    # The hint only orders the search (RFC 7009 §2.1); the token's form decides: our
    # access tokens are JWTs with the session in `sid`, refresh tokens are random.
    claims = await verify_token_reloading(strategy.config, token)
    if claims is not None:
        try:
            ended = (uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]))
        except (TypeError, ValueError, AttributeError):
            ended = None
    else:
        owner = await sessions.owner_of(token) if len(token) <= 128 else None
        ended = None if owner is None else (owner.user_id, owner.id)
    if ended is not None:
        await sessions.log_out(*ended)
    return Response(status_code=200)
