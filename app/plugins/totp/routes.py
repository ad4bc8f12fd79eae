"""Two-step sign-in over HTTP: your own settings (/v1/mfa), the login's second step
(/v1/users/login/mfa) and the admin's view and reset (/v1/users/{id}/mfa). Paths and
fields are a fixed contract."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from app.plugins.api import (
    UNAUTHORIZED,
    VALIDATION_ERROR,
    AccountsDep,
    CsrfCheckFailed,
    CurrentPasswordInvalid,
    CurrentPasswordRequired,
    CurrentSession,
    CurrentSuperuser,
    CurrentUser,
    ErrorBody,
    EventsDep,
    KeysDep,
    LimiterDep,
    SessionDep,
    SignInDep,
    TooManyRequests,
    UserNotFound,
    client_of,
    responses,
    settings_of,
)
from app.plugins.totp import errors
from app.plugins.totp.events import (
    MFA_DISABLED,
    MFA_ENABLED,
    MFA_FAILED,
    MFA_RECOVERY_CODES_REGENERATED,
)
from app.plugins.totp.schemas import (
    ActivateRequest,
    AdminMfaStatus,
    Enrolment,
    MfaStatus,
    PasswordConfirmation,
    RecoveryCodes,
    SecondStep,
)
from app.plugins.totp.sealing import Sealer, build_sealer
from app.plugins.totp.service import Failed, TotpService
from app.plugins.totp.settings import TotpSettings

router = APIRouter(prefix="/v1/mfa", tags=["two-step"])
login_router = APIRouter(prefix="/v1/users/login", tags=["users"])
admin_router = APIRouter(prefix="/v1/users", tags=["admin"])
SettingsDep = Annotated[TotpSettings, Depends(settings_of(TotpSettings))]
NO_STORE = {"Cache-Control": "no-store"}


async def get_sealer(settings: SettingsDep, keys: KeysDep) -> Sealer:
    return build_sealer(settings.key_bytes(), keys.derive)


async def get_service(
    session: SessionDep, settings: SettingsDep, sealer: Annotated[Sealer, Depends(get_sealer)]
) -> TotpService:
    return TotpService(session, settings, sealer)


ServiceDep = Annotated[TotpService, Depends(get_service)]
PASSWORD_ERRORS = responses(CurrentPasswordRequired, CurrentPasswordInvalid, TooManyRequests)


@router.get("", response_model=MfaStatus, responses=UNAUTHORIZED)
async def get_status(user: CurrentUser, service: ServiceDep) -> MfaStatus:
    """Whether sign-in asks you for a code, and how many recovery codes you have left."""
    found = await service.status(user.id)
    return MfaStatus(totp=found.totp, recovery_codes_left=found.recovery_codes_left)


@router.post(
    "/totp/enroll",
    response_model=Enrolment,
    responses={
        **UNAUTHORIZED,
        **responses(
            CurrentPasswordRequired, CurrentPasswordInvalid, errors.AlreadyEnabled, TooManyRequests
        ),
        **VALIDATION_ERROR,
    },
)
async def enroll(
    body: PasswordConfirmation,
    user: CurrentUser,
    accounts: AccountsDep,
    service: ServiceDep,
    response: Response,
) -> Enrolment:
    """Start setting up an authenticator app: scan `qr_svg` (or type `secret`), then send
    a code it shows to `POST /v1/mfa/totp/activate`. Nothing changes until then; asking
    again replaces the secret. 409 `TOTP_ALREADY_ENABLED` if two-step is on."""
    await accounts.confirm_password(user, body.current_password)
    enrolment = await service.enrol(user.id, email=user.email)
    response.headers.update(NO_STORE)
    return Enrolment(**vars(enrolment))


@router.post(
    "/totp/activate",
    response_model=RecoveryCodes,
    responses={
        **UNAUTHORIZED,
        **responses(
            errors.WrongActivationCode, errors.NotEnrolled, errors.AlreadyEnabled, TooManyRequests
        ),
        **VALIDATION_ERROR,
    },
)
async def activate(
    body: ActivateRequest,
    user: CurrentUser,
    service: ServiceDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    events: EventsDep,
    response: Response,
) -> RecoveryCodes:
    """Turn two-step on with a code from the app (400 `TOTP_CODE_INVALID` if it isn't
    the app's current one). Answers your ten recovery codes, shown this once: keep them
    somewhere safe; each signs you in once if you lose the app."""
    await limiter.hit(settings.rate_limit_attempts, "totp:activate", str(user.id))
    codes = await service.activate(user.id, body.code)
    await events.emit(MFA_ENABLED, user_id=user.id, actor_id=user.id, detail={"email": user.email})
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@router.delete(
    "/totp",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **UNAUTHORIZED,
        **responses(errors.NotEnabled),
        **PASSWORD_ERRORS,
        **VALIDATION_ERROR,
    },
)
async def disable(
    body: PasswordConfirmation,
    signed_in: CurrentSession,
    accounts: AccountsDep,
    service: ServiceDep,
    events: EventsDep,
) -> None:
    """Turn two-step off (your app's secret and recovery codes are forgotten). Your other
    sessions are signed out; this one stays."""
    user = signed_in.user
    await accounts.confirm_password(user, body.current_password)
    await service.disable(user.id)
    await accounts.end_sessions(user.id, keep=signed_in.session_id)
    detail = {"by": "user", "email": user.email}
    await events.emit(MFA_DISABLED, user_id=user.id, actor_id=user.id, detail=detail)


@router.post(
    "/recovery-codes",
    response_model=RecoveryCodes,
    responses={
        **UNAUTHORIZED,
        **responses(errors.NotEnabled),
        **PASSWORD_ERRORS,
        **VALIDATION_ERROR,
    },
)
async def regenerate_recovery_codes(
    body: PasswordConfirmation,
    user: CurrentUser,
    accounts: AccountsDep,
    service: ServiceDep,
    events: EventsDep,
    response: Response,
) -> RecoveryCodes:
    """Ten new recovery codes, shown this once; the old ones stop working."""
    await accounts.confirm_password(user, body.current_password)
    codes = await service.new_recovery_codes(user.id)
    detail = {"email": user.email}
    await events.emit(
        MFA_RECOVERY_CODES_REGENERATED, user_id=user.id, actor_id=user.id, detail=detail
    )
    response.headers.update(NO_STORE)
    return RecoveryCodes(recovery_codes=codes)


@login_router.post(
    "/mfa",
    response_model=None,
    responses={
        200: {"description": "The same body as `POST /v1/users/login`."},
        **errors.documented(errors.WrongCode, errors.WrongRecoveryCode, errors.MfaTokenInvalid),
        **responses(CsrfCheckFailed, TooManyRequests),
        **VALIDATION_ERROR,
    },
)
async def second_step(
    body: SecondStep,
    service: ServiceDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    sign_in: SignInDep,
    events: EventsDep,
    request: Request,
) -> JSONResponse:
    """Finish a login that answered `mfa_required`: its `mfa_token` with the app's
    `code`, or a `recovery_code` (each works once). Answers as `POST /v1/users/login`
    does (the refresh token in the body, or in the HttpOnly cookie with
    `X-Refresh-Token-Delivery: cookie`). A wrong code or recovery code is 401
    `TOTP_CODE_INVALID` (with a message for the one sent); the
    token is good for 5 minutes, one sign-in and 5 wrong codes (then 401
    `TOTP_MFA_TOKEN_INVALID`: sign in with the password again)."""
    delivery = sign_in.delivery()  # before any work, as login does
    challenge = await service.challenge(body.mfa_token)
    await limiter.hit(settings.rate_limit_attempts, "totp:second-step", str(challenge.user_id))
    outcome = await service.second_step(challenge, code=body.code, recovery_code=body.recovery_code)
    if isinstance(outcome, Failed):
        await events.emit_failure(
            MFA_FAILED,
            user_id=outcome.user_id,
            detail={"method": outcome.method, "attempts_left": outcome.attempts_left},
        )
        raise errors.WrongCode() if outcome.method == "totp" else errors.WrongRecoveryCode()
    answer = await sign_in.start(
        outcome.user_id,
        method=f"password+{outcome.method}",
        client=client_of(request),
        delivery=delivery,
    )
    if answer is None:  # deactivated since the password step
        raise errors.MfaTokenInvalid()
    return answer


SUPERUSER_ONLY: dict[int | str, dict[str, Any]] = {
    **UNAUTHORIZED,
    403: {"model": ErrorBody, "description": "The caller is not a superuser."},
}


@admin_router.get(
    "/{user_id:uuid}/mfa",
    response_model=AdminMfaStatus,
    responses={**SUPERUSER_ONLY, **responses(UserNotFound)},
)
async def admin_get_status(
    user_id: uuid.UUID, _: CurrentSuperuser, accounts: AccountsDep, service: ServiceDep
) -> AdminMfaStatus:
    """Whether this user has two-step sign-in on (superusers only)."""
    if await accounts.find(user_id) is None:
        raise UserNotFound()
    found = await service.status(user_id)
    return AdminMfaStatus(**vars(found))


@admin_router.delete(
    "/{user_id:uuid}/mfa",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **SUPERUSER_ONLY,
        **responses(UserNotFound, errors.NotEnabled, errors.CannotResetOwn),
    },
)
async def admin_reset(
    user_id: uuid.UUID,
    actor: CurrentSuperuser,
    accounts: AccountsDep,
    service: ServiceDep,
    events: EventsDep,
) -> None:
    """Turn two-step off for a user who lost their app and recovery codes (superusers
    only, not for yourself). Ends all their sessions; they sign in with the password alone
    and can set up a new app."""
    if user_id == actor.id:
        raise errors.CannotResetOwn()
    user = await accounts.find(user_id)
    if user is None:
        raise UserNotFound()
    await service.disable(user_id)
    await accounts.end_sessions(user_id)
    detail = {"by": "admin", "email": user.email}
    await events.emit(MFA_DISABLED, user_id=user_id, actor_id=actor.id, detail=detail)
