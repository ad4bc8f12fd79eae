"""QR sign-in over HTTP: start (the computer), look up and decide (the phone), token (the
computer, polling). Paths and fields are a fixed contract."""

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from app.plugins.api import (
    UNAUTHORIZED,
    VALIDATION_ERROR,
    CsrfCheckFailed,
    CurrentUser,
    LimiterDep,
    PublicUrlDep,
    SessionDep,
    SignInDep,
    TooManyRequests,
    UnsupportedMediaType,
    address_key,
    client_of,
    responses,
    settings_of,
)
from app.plugins.qr_login import errors
from app.plugins.qr_login.codes import display_user_code
from app.plugins.qr_login.grant import redeem
from app.plugins.qr_login.schemas import (
    DEVICE_CODE_GRANT,
    PendingRequest,
    StartRequest,
    StartResponse,
    TokenRequest,
)
from app.plugins.qr_login.service import QrLoginService
from app.plugins.qr_login.settings import QrLoginSettings

router = APIRouter(prefix="/v1/qr-login", tags=["qr-login"])
SettingsDep = Annotated[QrLoginSettings, Depends(settings_of(QrLoginSettings))]
FORM_TYPE = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store"}
ACCEPTED_BODIES = f"Send JSON (application/json) or a form ({FORM_TYPE})."


async def get_service(session: SessionDep, settings: SettingsDep) -> QrLoginService:
    return QrLoginService(session, settings)


ServiceDep = Annotated[QrLoginService, Depends(get_service)]


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


M = TypeVar("M", bound=BaseModel)


async def _parse(request: Request, model: type[M]) -> M | None:
    """The body as `model` from JSON or a form (what RFC 8628 clients send); None if there
    is no body."""
    raw = await request.body()
    try:
        if _media_type(request) == "application/json":
            return model.model_validate_json(raw)
        if _media_type(request) == FORM_TYPE:
            async with request.form() as fields:
                return model.model_validate(_known_fields(model, fields.multi_items()))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from exc
    if not raw:
        return None
    raise UnsupportedMediaType(ACCEPTED_BODIES)


def _known_fields(model: type[BaseModel], pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A form's fields that `model` knows, each sent once (RFC 6749 §3.2: a repeated one is
    refused, not silently chosen). Others are ignored, as RFC 6749 asks: OAuth 2.0 clients
    add parameters of their own (JSON callers of our own API still hear of a stray field)."""
    known = [(name, value) for name, value in pairs if name in model.model_fields]
    names = [name for name, _ in known]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("body", name), "msg": "Send this field once."}
                for name in repeated
            ]
        )
    return dict(known)


async def read_start(request: Request) -> StartRequest:
    """JSON, or RFC 8628's form (the device authorization request), or nothing at all."""
    return await _parse(request, StartRequest) or StartRequest()


async def read_token(request: Request) -> TokenRequest:
    body = await _parse(request, TokenRequest)
    if body is None:
        raise UnsupportedMediaType(ACCEPTED_BODIES)
    return body


def _body(model: type[BaseModel], *, required: bool) -> dict[str, Any]:
    schema = model.model_json_schema()
    form = {key: value for key, value in schema.items() if key != "additionalProperties"}
    content = {"application/json": {"schema": schema}, FORM_TYPE: {"schema": form}}
    return {"requestBody": {"required": required, "content": content}}


@router.post(
    "/start",
    status_code=status.HTTP_201_CREATED,
    response_model=StartResponse,
    responses={**responses(UnsupportedMediaType, TooManyRequests), **VALIDATION_ERROR},
    openapi_extra=_body(StartRequest, required=False),
)
async def start(
    body: Annotated[StartRequest, Depends(read_start)],
    service: ServiceDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    service_url: PublicUrlDep,
    request: Request,
    response: Response,
) -> StartResponse:
    """Start a QR sign-in (no sign-in needed; JSON, or RFC 8628's device authorization
    form, whose `client_id` and `scope` are ignored): show `qr_svg` (or `user_code` and
    `verification_uri`) to the user, keep `device_code` to yourself, and poll
    `POST /v1/qr-login/token` every `interval` seconds until it answers 200."""
    client = client_of(request)
    await limiter.hit(
        settings.rate_limit_starts, "qr_login:start", address_key(client.ip_address or "unknown")
    )
    started = await service.start(
        client=client,
        client_name=body.client_name,
        base_url=settings.public_base_url or service_url,
    )
    response.headers.update(NO_STORE)
    return StartResponse(**vars(started))


DECISION_ERRORS = {**UNAUTHORIZED, **responses(errors.RequestNotFound, TooManyRequests)}


async def count_decision(user: CurrentUser, settings: SettingsDep, limiter: LimiterDep) -> None:
    """Lookups and decisions are counted per user, so codes can't be enumerated."""
    await limiter.hit(settings.rate_limit_decisions, "qr_login:decide", str(user.id))


Counted = Depends(count_decision)


@router.get(
    "/requests/{user_code}",
    response_model=PendingRequest,
    responses=DECISION_ERRORS,
    dependencies=[Counted],
)
async def get_request(user_code: str, service: ServiceDep) -> PendingRequest:
    """The device asking to be signed in with this code (`XXXX-XXXX`, any case, dash
    optional), for you to check before approving. 404 once it expired or was decided."""
    found = await service.pending(user_code)
    read = PendingRequest.model_validate(found)
    return read.model_copy(update={"user_code": display_user_code(found.user_code)})


@router.post(
    "/requests/{user_code}/approve",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=DECISION_ERRORS,
    dependencies=[Counted],
)
async def approve(user_code: str, user: CurrentUser, service: ServiceDep) -> None:
    """Sign the requesting device in to your account: it gets a session of its own, shown
    in your sessions with the method `qr`. Only approve a device you are looking at."""
    await service.decide(user_code, approver_id=user.id, approve=True)


@router.post(
    "/requests/{user_code}/deny",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=DECISION_ERRORS,
    dependencies=[Counted],
)
async def deny(user_code: str, user: CurrentUser, service: ServiceDep) -> None:
    """Refuse the request: the device is told `access_denied`."""
    await service.decide(user_code, approver_id=user.id, approve=False)


@router.post(
    "/token",
    response_model=None,
    responses={
        200: {"description": "The same body as `POST /v1/users/login`."},
        **errors.TokenError.all_documented(),
        **responses(CsrfCheckFailed, UnsupportedMediaType, TooManyRequests),
        **VALIDATION_ERROR,
    },
    openapi_extra=_body(TokenRequest, required=True),
)
async def token(
    body: Annotated[TokenRequest, Depends(read_token)],
    service: ServiceDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    sign_in: SignInDep,
    request: Request,
) -> JSONResponse:
    """Poll for the outcome (no sign-in needed; JSON or an RFC 8628 form). Once approved it
    answers exactly once as `POST /v1/users/login` does (the refresh token in the body, or
    in the HttpOnly cookie with `X-Refresh-Token-Delivery: cookie`); until then 400 with
    `error`: `authorization_pending`, `slow_down`, `access_denied`, `expired_token` or
    `invalid_grant`."""
    delivery = sign_in.delivery()  # before any work, as login does
    if body.grant_type is not None and body.grant_type != DEVICE_CODE_GRANT:
        raise errors.UnsupportedGrantType()
    return await redeem(
        body.device_code,
        service=service,
        settings=settings,
        limiter=limiter,
        sign_in=sign_in,
        client=client_of(request),
        delivery=delivery,
    )
