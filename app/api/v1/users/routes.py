"""The account endpoints: register, log in, and the signed-in user's own profile."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from app.api.client import client_address
from app.api.deps import (
    ContextDep,
    CurrentSession,
    CurrentUser,
    EmailLinksDep,
    UserManagerDep,
)
from app.api.openapi import UNAUTHORIZED, VALIDATION_ERROR
from app.api.v1.users.login import PasswordLoginDep
from app.api.v1.users.schemas import (
    LoginRequest,
    PasswordConfirmation,
    TokenResponse,
    UserCreate,
    UserRead,
    UserSelfUpdate,
)
from app.api.v1.users.tokens import clear_refresh_cookie, cookie_delivery
from app.core import errors
from app.core.errors import responses
from app.db.models import User
from app.services.mail import deliver

router = APIRouter(prefix="/v1/users", tags=["users"])

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


async def read_credentials(request: Request) -> LoginRequest:
    """Credentials from JSON (SPA and mobile clients) or the OAuth2 password form."""
    media_type = _media_type(request)
    try:
        if media_type == "application/json":
            return LoginRequest.model_validate_json(await request.body())
        if media_type in FORM_TYPES:
            async with request.form() as form:  # closes any uploaded file parts
                return LoginRequest.model_validate(dict(form))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from exc
    raise errors.UnsupportedMediaType()


LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "username": {"type": "string", "description": "The account's email."},
                    "password": {"type": "string", "format": "password"},
                },
            }
        },
    },
}


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=responses(errors.UserAlreadyExists, errors.InvalidPassword, errors.TooManyRequests),
)
async def register_user(
    body: UserCreate,
    manager: UserManagerDep,
    links: EmailLinksDep,
    context: ContextDep,
    background: BackgroundTasks,
    request: Request,
) -> User:
    """Create an account and email it a confirmation link. Emails are case-insensitive;
    passwords need 8 characters and at most 72 bytes, and common or easily guessed ones
    (or ones built from the email) are refused with a `reason`."""
    await context.throttle.registration(email=body.email, address=client_address(request))
    user = await manager.register(email=body.email, password=body.password, request=request)
    background.add_task(deliver, context.mailer, links.verification_mail(user))
    return user


@router.post(
    "/login",
    response_model=TokenResponse,
    response_model_exclude_none=True,
    responses={
        200: {
            "description": "Signed in; or, when an enabled plugin asks for a second step, "
            "that plugin's body instead (two-step sign-in: `mfa_required`)."
        },
        **responses(
            errors.BadCredentials,
            errors.SecondStepRequired,
            errors.CsrfCheckFailed,
            errors.UnsupportedMediaType,
            errors.TooManyRequests,
        ),
        **VALIDATION_ERROR,
    },
    openapi_extra={"requestBody": LOGIN_BODY},
)
async def login_user(
    credentials: Annotated[LoginRequest, Depends(read_credentials)],
    login: PasswordLoginDep,
    request: Request,
) -> Response:
    """Start a session: an access token, plus a refresh token in the body or, with
    `X-Refresh-Token-Delivery: cookie`, in an HttpOnly cookie (403 `CSRF_CHECK_FAILED`
    from another origin). JSON body or OAuth2 form; an error answering the form also
    carries RFC 6749's `error` and `error_description`, so OAuth clients see it fail.

    An account with two-step sign-in gets `{"mfa_required": true, "mfa_token", ...}`
    and no tokens: finish at `POST /v1/users/login/mfa`. The OAuth2 form can't, so it
    answers 400 `LOGIN_SECOND_STEP_REQUIRED` for such an account."""
    form = _media_type(request) in FORM_TYPES
    try:
        delivery = cookie_delivery(request)  # before any work: nothing to guess from afar
        user = await login.check(credentials)
        held = await login.held(user)
        if held is None:
            return await login.start(user, delivery=delivery)
        if form:  # what the gate wrote rolls back with this error
            raise errors.SecondStepRequired()
        return held
    except errors.AppError as exc:
        if not form:
            raise
        # The Swagger "Authorize" dialog and OAuth client libraries post the form and
        # look for `error`: without it a failure reads as a token.
        raise errors.OAuthError.of(exc, keep_status=True) from exc


@router.get("/me", response_model=UserRead, responses=UNAUTHORIZED)
async def get_current_user(user: CurrentUser) -> User:
    """The signed-in user's profile."""
    return user


@router.patch(
    "/me",
    response_model=UserRead,
    responses={
        **UNAUTHORIZED,
        **responses(
            errors.CurrentPasswordRequired,
            errors.CurrentPasswordInvalid,
            errors.EmailTaken,
            errors.InvalidNewPassword,
            errors.TooManyRequests,
        ),
    },
)
async def update_current_user(
    body: UserSelfUpdate,
    signed_in: CurrentSession,
    manager: UserManagerDep,
    links: EmailLinksDep,
    context: ContextDep,
    background: BackgroundTasks,
    request: Request,
) -> User:
    """Change your email and/or password; `current_password` is required for either.
    Your other sessions are signed out; this one stays. A new email must be confirmed
    again: a link is sent to it."""
    changes = body.model_dump(include={"email", "password"}, exclude_none=True)
    old_email, address = signed_in.user.email, client_address(request)
    async with context.throttle.password_attempt(account=old_email, address=address):
        await manager.require_password(signed_in.user, body.current_password)
    if changes.get("email", old_email) != old_email:  # a confirmation mail goes out
        await context.throttle.mail(recipient=changes["email"], address=address)
    user = await manager.change(
        signed_in.user,
        changes,
        request,
        keep_session=signed_in.session_id,
        actor_id=signed_in.user.id,
    )
    if user.email != old_email:
        background.add_task(deliver, context.mailer, links.verification_mail(user))
    return user


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **UNAUTHORIZED,
        **responses(
            errors.CurrentPasswordRequired,
            errors.CurrentPasswordInvalid,
            errors.TooManyRequests,
            errors.LastSuperuser,
            errors.CsrfCheckFailed,
        ),
    },
)
async def delete_current_user(
    body: PasswordConfirmation,
    user: CurrentUser,
    manager: UserManagerDep,
    context: ContextDep,
    request: Request,
    response: Response,
) -> None:
    """Delete your account for good; `current_password` is required. The last active
    superuser can't (409 `LAST_SUPERUSER`): make another account a superuser first.
    With `X-Refresh-Token-Delivery: cookie` the refresh cookie is cleared too, as by logout."""
    delivery = cookie_delivery(request)  # before any work: a cross-site ask is refused
    async with context.throttle.password_attempt(
        account=user.email, address=client_address(request)
    ):
        await manager.require_password(user, body.current_password)
    await manager.remove(user, request, actor_id=user.id)
    if delivery == "cookie":
        # The browser would otherwise restore a session that no longer exists (a 401).
        clear_refresh_cookie(response, context.settings)
