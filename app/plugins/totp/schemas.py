"""Two-step sign-in's request and response bodies (the contract in README, "Two-step
verification")."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

CurrentPassword = Annotated[str, Field(min_length=1, max_length=1024)]
# Six digits; spaces a user pasted ("123 456") are the frontend's to remove. The length
# apart from the pattern: a 5-digit code is told it is short, not that it has bad characters.
SIX_DIGITS = Field(min_length=6, max_length=6, pattern=r"^[0-9]+$", examples=["123456"])
Code = Annotated[str, SIX_DIGITS]
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


def chosen_by(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"type": "string"}}}


class SecondStep(BaseModel):
    """The second step: the app's `code`, or a `recovery_code` (`abcde-fghjk`; case,
    spaces and dash don't matter), not both. One model rather than a union of the two
    shapes, so a mistake is reported on the field it is in."""

    model_config = ConfigDict(
        extra="forbid",
        # What the validator below checks, for the OpenAPI document (a null is no value).
        json_schema_extra={"oneOf": [chosen_by("code"), chosen_by("recovery_code")]},
    )

    mfa_token: MfaToken
    # Constraints outside the `| None`: a bad code is one error on `code`, not one per
    # member of a union.
    code: Annotated[str | None, SIX_DIGITS] = Field(
        default=None, description="The code the authenticator app shows now."
    )
    recovery_code: Annotated[
        str | None, Field(min_length=1, max_length=64, examples=["abcde-fghjk"])
    ] = Field(default=None, description="One of the recovery codes, instead of `code`.")

    @model_validator(mode="after")
    def one_of_code_or_recovery_code(self) -> "SecondStep":
        if (self.code is None) == (self.recovery_code is None):
            raise PydanticCustomError(
                "code_or_recovery_code", "Send either code or recovery_code (one of them)."
            )
        return self
