"""Bodies of token introspection (RFC 7662)."""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class IntrospectionRequest:
    token: str
    token_type_hint: str | None


INTROSPECTION_BODY = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["token"],
                "properties": {
                    "token": {
                        "type": "string",
                        "minLength": 1,
                        "description": "An access token (JWT) or a refresh token.",
                    },
                    "token_type_hint": {
                        "type": "string",
                        "enum": ["access_token", "refresh_token"],
                        "description": "Optional; the token's shape decides either way.",
                    },
                },
            }
        }
    },
}


class IntrospectionAnswer(BaseModel):
    """`{"active": false}` for anything that is not a live token; the token's facts
    besides for one that is."""

    active: bool
    token_type: Literal["access_token", "refresh_token"] | None = None
    sub: str | None = Field(default=None, description="The user's id.")
    sid: str | None = Field(default=None, description="The session's id.")
    exp: int | None = Field(default=None, description="Expiry, seconds since the epoch.")
    iat: int | None = Field(default=None, description="Access tokens: when it was issued.")
    iss: str | None = None
    aud: str | None = None
    jti: str | None = Field(default=None, description="Access tokens: the token's own id.")
    roles: list[str] | None = Field(default=None, description="The user's roles, as of now.")
