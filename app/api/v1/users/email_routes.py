"""Links sent by email: forgotten passwords and email verification."""

from fastapi import APIRouter, BackgroundTasks, Request, status

from app.api.client import client_address
from app.api.deps import ContextDep, CurrentUser, EmailLinksDep
from app.api.openapi import UNAUTHORIZED
from app.api.v1.users.schemas import (
    Accepted,
    ForgotPasswordRequest,
    ResetPasswordRequest,
    UserRead,
    VerifyRequest,
)
from app.core import errors
from app.core.errors import responses
from app.db.models import User
from app.services.mail import deliver

router = APIRouter(prefix="/v1/users", tags=["email links"])

RESET_SENT = "If an account uses this email, we sent it a link to choose a new password."
VERIFY_SENT = "We sent a confirmation link to your email address."


@router.post(
    "/forgot-password",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=responses(errors.TooManyRequests),
)
async def forgot_password(
    body: ForgotPasswordRequest,
    links: EmailLinksDep,
    context: ContextDep,
    background: BackgroundTasks,
    request: Request,
) -> Accepted:
    """Email a password-reset link. The answer is the same whether or not the account
    exists, and the mail goes out after it, so neither reveals who has an account."""
    await context.throttle.mail(recipient=body.email, address=client_address(request))
    if (mail := await links.password_reset_mail(body.email)) is not None:
        background.add_task(deliver, context.mailer, mail)
    return Accepted(message=RESET_SENT)


@router.post(
    "/reset-password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(errors.ResetTokenInvalid, errors.InvalidResetPassword),
)
async def reset_password(
    body: ResetPasswordRequest, links: EmailLinksDep, request: Request
) -> None:
    """Choose a new password with the emailed token. Each link works once, and every
    session of the account ends."""
    await links.reset_password(body.token, body.password, request)


@router.post("/verify", response_model=UserRead, responses=responses(errors.VerifyTokenInvalid))
async def verify_email(body: VerifyRequest, links: EmailLinksDep, request: Request) -> User:
    """Confirm the account's email with the emailed token."""
    return await links.verify_email(body.token, request)


@router.post(
    "/me/verification-email",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses={
        **UNAUTHORIZED,
        **responses(errors.TooManyRequests),
    },
)
async def send_verification_email(
    user: CurrentUser,
    links: EmailLinksDep,
    context: ContextDep,
    background: BackgroundTasks,
    request: Request,
) -> Accepted:
    """Send the confirmation link again (nothing is sent if the email is already verified)."""
    await context.throttle.mail(recipient=user.email, address=client_address(request))
    if not user.is_verified:
        background.add_task(deliver, context.mailer, links.verification_mail(user))
    return Accepted(message=VERIFY_SENT)
