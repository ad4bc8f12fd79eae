"""QR sign-in's request and response bodies (the contract in README, "QR sign-in")."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_CODE_LENGTH = 256  # at most; ours are 43


# The requester writes the name and the approver reads it: no control characters (C0, C1),
# and none of the invisible ones that would hide or reorder what the approver sees
# (zero-width, direction marks, overrides and isolates, BOM). A pattern, so the schema
# states the rule; str.isprintable() also refused characters no schema can list.
DISPLAYABLE = r"^[^\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]*$"


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_name: str | None = Field(
        default=None,
        max_length=100,
        pattern=DISPLAYABLE,
        description=(
            "A name for the device that signs in, shown to the approver: no control or "
            "invisible formatting characters."
        ),
        examples=["Office PC"],
    )

    # RFC 8628 §3.1's parameters, so a standard client's form is understood; like the
    # token endpoint, the service ignores them: clients are public, tokens have no scopes.
    client_id: str | None = Field(default=None, max_length=256, description="Ignored.")
    scope: str | None = Field(default=None, max_length=1024, description="Ignored.")

    @field_validator("client_name")
    @classmethod
    def stripped(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class StartResponse(BaseModel):
    device_code: str = Field(description="The requester's secret: poll the token endpoint with it.")
    user_code: str = Field(description="The code the approver sees or types, `XXXX-XXXX`.")
    verification_uri: str = Field(description="The approve page.")
    verification_uri_complete: str = Field(description="The approve page with the code in it.")
    expires_in: int = Field(description="Seconds until the request expires.")
    interval: int = Field(description="Seconds to wait between polls.")
    qr_svg: str = Field(description="SVG of a QR code of `verification_uri_complete`.")


class PendingRequest(BaseModel):
    """The requesting device, for the approver to recognise (or not) before approving."""

    model_config = ConfigDict(from_attributes=True)

    user_code: str
    client_name: str | None
    user_agent: str | None
    ip_address: str | None
    created_at: datetime
    expires_at: datetime


class TokenRequest(BaseModel):
    device_code: str = Field(min_length=1, max_length=DEVICE_CODE_LENGTH)
    grant_type: str | None = Field(
        default=None, description=f"Optional; if given, `{DEVICE_CODE_GRANT}`."
    )
    client_id: str | None = Field(default=None, max_length=256, description="Ignored.")
