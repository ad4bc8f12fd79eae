"""The floor: the project's GET /v1/users/me work and nothing else, to measure ours against.

PyJWT verifies the bearer token with the same checks as app/core/security.py (HS256 only,
issuer, audience, every required claim, the same leeway); one raw asyncpg query, the one
app/db/crud/session.py get_user_in_session sends, loads the user if the token's session
is theirs and live; the answer is the same JSON. No ORM, no dependency injection beyond
FastAPI's route itself, no middleware, no logging. Serve against our database with our
key: `FLOOR_DATABASE_URL=postgresql://... FLOOR_SECRET_KEY=... uvicorn bench.floor_app:app`.
"""

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

DATABASE_URL = os.environ.get("FLOOR_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
SECRET_KEY = os.environ.get("FLOOR_SECRET_KEY", "change-me-" + "0" * 32)
ISSUER = os.environ.get("FLOOR_JWT_ISSUER", "auth-service")
AUDIENCE = os.environ.get("FLOOR_JWT_AUDIENCE", "auth-service:access")
POOL_SIZE = int(os.environ.get("FLOOR_POOL_SIZE", "10"))  # our DATABASE_POOL_SIZE default
REQUIRED_CLAIMS = ["iss", "aud", "sub", "sid", "iat", "exp", "jti"]
LEEWAY_SECONDS = 5
USER_IN_LIVE_SESSION = """
SELECT users.id, users.email, users.created_at, users.hashed_password, users.is_active,
       users.is_superuser, users.is_verified, users.roles
FROM users JOIN sessions ON sessions.user_id = users.id
WHERE users.id = $1 AND sessions.id = $2 AND sessions.revoked_at IS NULL
  AND sessions.expires_at > $3
"""
UNAUTHORIZED = JSONResponse(
    {"code": "UNAUTHORIZED", "message": "Sign in to continue."},
    status_code=401,
    headers={"WWW-Authenticate": "Bearer"},
)


async def _keep_connection_state(_connection: object) -> None:
    """No reset query when a connection goes back: these requests change no session state,
    and asyncpg's default reset would add a round trip that our app doesn't pay."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(
        DATABASE_URL, min_size=1, max_size=POOL_SIZE, reset=_keep_connection_state
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def _claims(request: Request) -> dict[str, Any] | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        return None
    return claims


@app.get("/v1/users/me")
async def me(request: Request) -> JSONResponse:
    claims = _claims(request)
    if claims is None:
        return UNAUTHORIZED
    try:
        user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    except (TypeError, ValueError, AttributeError):
        return UNAUTHORIZED
    row = await request.app.state.pool.fetchrow(
        USER_IN_LIVE_SESSION, user_id, session_id, datetime.now(UTC)
    )
    if row is None or not row["is_active"]:
        return UNAUTHORIZED
    return JSONResponse(
        {
            "id": str(row["id"]),
            "email": row["email"],
            "is_active": row["is_active"],
            "is_verified": row["is_verified"],
            "is_superuser": row["is_superuser"],
            "created_at": row["created_at"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
            # asyncpg hands JSONB over as its text unless a codec is set: the app decodes it too.
            "roles": json.loads(row["roles"]),
        },
        headers={"Cache-Control": "no-store"},
    )


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
