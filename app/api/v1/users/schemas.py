"""Request and response bodies of /v1/users."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, computed_field

from app.core.security import MAX_PASSWORD_BYTES
from app.services.devices import describe_device
from app.services.emails import canonical_email, lookup_email
from app.services.passwords import MIN_PASSWORD_CHARACTERS, invisible
from app.services.sessions import as_utc

# SQLite hands back naive datetimes; every time we store is UTC, so say so.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

# No control characters: PostgreSQL text can't hold NUL, and no address contains one.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
# Stored in one canonical form: `Ann@Example.com ` and `ann@example.com` are one account.
EmailAddress = Annotated[
    str,
    Field(
        max_length=320,
        json_schema_extra={"format": "email"},
        description=(
            "A valid address on a public domain: special-use names (`.test`, `.local`, "
            "`.invalid`, `localhost`, ...) are refused. Stored trimmed and lowercased."
        ),
    ),
    AfterValidator(canonical_email),
]
# What str.strip() removes; lookups strip it, so it may surround a login email.
_STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# PRINTABLE once the surrounding whitespace is gone. A pattern, not a strip-then-check
# validator: pydantic leaves the pattern out of the schema when a validator runs first.
PRINTABLE_WHEN_STRIPPED = rf"^[{_STRIPPED}]*[^\x00-\x1f\x7f]*[{_STRIPPED}]*$"
# Looked up in the same form; a malformed one simply matches no account.
LoginEmail = Annotated[
    str,
    Field(max_length=320, pattern=PRINTABLE_WHEN_STRIPPED),
    AfterValidator(lookup_email),
]
# A password to check against a stored hash: this only bounds the work.
Password = Annotated[str, Field(max_length=1024)]
# A password to check against a stored hash, so there must be one: `""` is a 422, not a
# "current password required" 400 the schema could not explain.
CurrentPassword = Annotated[str, Field(min_length=1, max_length=1024)]
# A password to store: the schema states the policy's length bounds, so a client can check
# them first. The real upper bound is MAX_PASSWORD_BYTES bytes of UTF-8, which JSON Schema
# cannot express; in characters it is at most that many, and a password within these bounds
# can still fail the policy (400 with the reason: too many bytes, only spaces, the email).
NewPassword = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_CHARACTERS,
        max_length=MAX_PASSWORD_BYTES,
        description=(
            f"{MIN_PASSWORD_CHARACTERS} to {MAX_PASSWORD_BYTES} characters, and at most "
            f"{MAX_PASSWORD_BYTES} bytes in UTF-8 (accented letters take 2 bytes, emoji 4)."
        ),
    ),
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")  # privilege fields from clients are dropped

    email: EmailAddress
    password: NewPassword


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    is_active: bool
    is_verified: bool
    is_superuser: bool
    created_at: UtcDatetime
    roles: list[str] = Field(
        description="The account's role names, sorted. Access tokens carry them too (`roles`), "
        "as they were when the token was issued."
    )


class LoginRequest(BaseModel):
    # `username` is the OAuth2 password form's name for the same field.
    email: LoginEmail = Field(validation_alias=AliasChoices("email", "username"))
    password: Password


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str | None = Field(
        default=None, description="Absent when it was delivered as an HttpOnly cookie."
    )


class RefreshRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=128)


class SessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str | None = Field(description="The name the user gave this device, if any.")
    method: str = Field(description="How the session began: `password`, `qr`, ...")
    created_at: UtcDatetime = Field(description="When the user signed in.")
    last_used_at: UtcDatetime = Field(
        description=(
            "Last activity, as of the last token refresh: a page that is open renews its "
            "access token every few minutes, so this trails real use by at most one "
            "access-token lifetime. (Moving it on every request would cost each one a write.)"
        )
    )
    expires_at: UtcDatetime
    user_agent: str | None
    ip_address: str | None = Field(description="The address of the sign-in or last refresh.")
    current: bool = False

    @computed_field(  # type: ignore[prop-decorator]
        description='A readable summary of the user agent: "Chrome 131 on Linux", "curl 8.4.0".'
    )
    @property
    def device(self) -> str:
        return describe_device(self.user_agent)


SESSION_NAME_CHARACTERS = 64
# The devices list is where people spot a sign-in they don't know, so a name must show as
# typed: besides control characters (C0 and C1), no bidi controls (a reversed "Chrome on
# Linux") and no line or paragraph breaks inside. Zero-width joiners stay: emoji sequences
# use them. A pattern, so the schema tells clients (and schema-driven tests) the rule.
_NOT_SHOWN_AS_TYPED = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
SHOWN_AS_TYPED_WHEN_STRIPPED = rf"^[{_STRIPPED}]*[^{_NOT_SHOWN_AS_TYPED}]*[{_STRIPPED}]*$"


def _session_name(name: str) -> str | None:
    trimmed = name.strip()
    if len(trimmed) > SESSION_NAME_CHARACTERS:
        raise ValueError(f"A device name has at most {SESSION_NAME_CHARACTERS} characters.")
    if all(invisible(char) for char in trimmed):
        return None  # "", only spaces or only zero-width characters remove the name, like null
    return trimmed


SessionName = Annotated[
    str,
    Field(
        max_length=512,  # bounds the work; the real limit is checked once trimmed
        pattern=SHOWN_AS_TYPED_WHEN_STRIPPED,
        description=(
            f"1 to {SESSION_NAME_CHARACTERS} characters once trimmed, shown as typed: no "
            "control, bidi-control or line-break characters. `null`, an empty string or one "
            "of only invisible characters removes the name."
        ),
    ),
    AfterValidator(_session_name),
]


class SessionRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SessionName | None


class PasswordConfirmation(BaseModel):
    current_password: CurrentPassword | None = None


class UserSelfUpdate(PasswordConfirmation):
    model_config = ConfigDict(extra="ignore")

    email: EmailAddress | None = None
    password: NewPassword | None = None


class UserAdminUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailAddress | None = None
    password: NewPassword | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    is_verified: bool | None = None


class UserAdminRead(UserRead):
    last_login_at: UtcDatetime | None = Field(
        description="When the account last signed in (started a session); null if never."
    )


class UserPage(BaseModel):
    items: list[UserAdminRead]
    total: int
    limit: int
    offset: int


class ForgotPasswordRequest(BaseModel):
    email: LoginEmail


class ResetPasswordRequest(BaseModel):
    token: str = Field(max_length=2048)
    password: NewPassword


class VerifyRequest(BaseModel):
    token: str = Field(max_length=2048)


class Accepted(BaseModel):
    message: str
