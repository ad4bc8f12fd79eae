"""Two-step sign-in's request and response bodies (the contract in README, "Two-step
verification")."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

CurrentPassword = Annotated[str, Field(min_length=1, max_length=1024)]
# Six digits; spaces a user pasted ("123 456") are the frontend's to remove.
Code = Annotated[str, Field(pattern=r"^[0-9]{6}$", examples=["123456"])]
MfaToken = Annotated[
    str, Field(min_length=1, max_length=2048, description="From the login's `mfa_required` answer.")
]


class PasswordConfirmation(BaseModel):
    current_password: CurrentPassword | None = None


class ActivateRequest(BaseModel):
    code: Code = Field(description="The code the authenticator app shows now.")


class MfaStatus(BaseModel):
    totp: bool = Field(description="Whether a second step is asked at sign-in.")
    recovery_codes_left: int


class AdminMfaStatus(MfaStatus):
    enabled_at: datetime | None = Field(description="When two-step was turned on.")


class Enrolment(BaseModel):
    secret: str = Field(description="Base32, 160 bits: for typing into an app that can't scan.")
    otpauth_uri: str = Field(description="`otpauth://totp/...`, what the QR code holds.")
    qr_svg: str = Field(description="SVG of a QR code of `otpauth_uri`.")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="Ten one-time codes, shown this once: each signs in instead of a code.",
        min_length=10,
        max_length=10,
    )


class MfaRequired(BaseModel):
    """`POST /v1/users/login`'s answer for an account with two-step on: no tokens yet."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Send it to `POST /v1/users/login/mfa` with a code.")
    methods: list[str] = Field(description='What may follow: "totp", "recovery_code".')
    expires_in: int = Field(description="Seconds until `mfa_token` expires.")


class CodeStep(BaseModel):
    """The second step with the app's code."""

    model_config = ConfigDict(extra="forbid")

    mfa_token: MfaToken
    code: Code


class RecoveryCodeStep(BaseModel):
    """The second step with a recovery code (`abcde-fghjk`; case, spaces and dash don't matter)."""

    model_config = ConfigDict(extra="forbid")

    mfa_token: MfaToken
    recovery_code: str = Field(min_length=1, max_length=64, examples=["abcde-fghjk"])


SecondStep = CodeStep | RecoveryCodeStep
