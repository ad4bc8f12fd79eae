"""Request and response bodies of the roles endpoints."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.v1.users.schemas import PRINTABLE, UtcDatetime
from app.db.models import ROLE_NAME_LENGTH

ROLE_NAME_PATTERN = rf"^[a-z][a-z0-9_.:-]{{0,{ROLE_NAME_LENGTH - 1}}}$"
# Checked wherever a name comes in, so a malformed one is a 422 that says why.
RoleName = Annotated[
    str,
    Field(
        max_length=ROLE_NAME_LENGTH,
        pattern=ROLE_NAME_PATTERN,
        description=(
            f"1 to {ROLE_NAME_LENGTH} characters: a lowercase letter, then lowercase "
            "letters, digits and `_ . : -` (`editor`, `billing:read`)."
        ),
        examples=["editor"],
    ),
]
MAX_ROLES_PER_REQUEST = 100
ROLE_DESCRIPTION_LENGTH = 256


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RoleName
    description: Annotated[
        str,
        StringConstraints(strip_whitespace=True),
        Field(max_length=ROLE_DESCRIPTION_LENGTH, pattern=PRINTABLE),
    ] = ""


class RoleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    created_at: UtcDatetime
