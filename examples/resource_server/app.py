"""A resource server that verifies the auth service's access tokens with nothing but its
discovery document: no shared secret, no call to the auth service per request.

    AUTH_DISCOVERY_URL=http://127.0.0.1:8000/.well-known/openid-configuration \\
        uvicorn examples.resource_server.app:app --port 8001

On start it reads the discovery document (issuer, jwks_uri, algorithms, audience);
PyJWT's PyJWKClient fetches the public keys, caches them, and fetches them again when a
token names a key it doesn't have (a rotation). Every request checks the signature with
the key the token's `kid` names, pinned to that key's algorithm, and `iss`, `aud` and
`exp`. Authorization reads the token's `roles` claim.

It sees a logout only when the token expires (15 minutes by default): for an answer that
holds *now*, ask the auth service's introspection endpoint instead.
"""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ASYMMETRIC = {"EdDSA", "ES256", "ES384", "RS256", "PS256"}  # never HS*: we hold no secret


@dataclass(frozen=True)
class Issuer:
    """What the discovery document says, and the key client built from it."""

    issuer: str
    audience: str
    algorithms: list[str]
    keys: jwt.PyJWKClient


def discover(discovery_url: str, audience: str | None = None) -> Issuer:
    document = httpx.get(discovery_url, timeout=5).raise_for_status().json()
    algorithms = [
        a for a in document["access_token_signing_alg_values_supported"] if a in ASYMMETRIC
    ]
    if not algorithms:
        raise RuntimeError("the auth service signs with no public-key algorithm (HS256?)")
    return Issuer(
        issuer=document["issuer"],
        audience=audience or document["access_token_audience"],
        algorithms=algorithms,
        # Keys cached as long as the JWKS's max-age; a token naming a kid not in the cache
        # refetches them (a rotation), at most every 5 s, so made-up kids cost little.
        keys=jwt.PyJWKClient(document["jwks_uri"], lifespan=60, timeout=5, cooldown_duration=5),
    )


class Unauthorized(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(
            status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
        )


bearer = HTTPBearer(auto_error=False)


def verified_claims(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    """The claims of a valid access token (a plain `def`: PyJWKClient fetches keys with
    blocking I/O, so FastAPI runs this in its thread pool)."""
    if credentials is None:
        raise Unauthorized("Send an access token: Authorization: Bearer <token>.")
    issuer: Issuer = request.app.state.issuer
    token = credentials.credentials
    try:
        key = issuer.keys.get_signing_key_from_jwt(token)
        if key.algorithm_name not in issuer.algorithms:
            raise Unauthorized("The token is not valid.")
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[key.algorithm_name],  # the key's own algorithm, never the header's
            audience=issuer.audience,
            issuer=issuer.issuer,
            leeway=5,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError):
        raise Unauthorized("The token is not valid.") from None
    return claims


Claims = Annotated[dict[str, Any], Depends(verified_claims)]


def require_role(role: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A dependency that lets only tokens whose `roles` claim holds `role` through."""

    def check(claims: Claims) -> dict[str, Any]:
        roles = claims.get("roles")
        if not isinstance(roles, list) or role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"This needs the {role!r} role.")
        return claims

    return check


ARTICLES = [{"id": 1, "title": "Published article"}]
DRAFTS = [{"id": 2, "title": "Draft article"}]


def create_app(discovery_url: str, *, audience: str | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.issuer = discover(discovery_url, audience)
        yield

    app = FastAPI(title="Example resource server", lifespan=lifespan)

    @app.exception_handler(HTTPException)
    async def as_json(_request: Request, exc: HTTPException) -> JSONResponse:
        codes = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}
        return JSONResponse(
            {"code": codes.get(exc.status_code, "ERROR"), "message": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.get("/articles")
    def articles(claims: Claims) -> dict[str, Any]:
        """Published articles: any signed-in user."""
        return {"user": claims["sub"], "articles": ARTICLES}

    @app.get("/articles/drafts")
    def drafts(
        claims: Annotated[dict[str, Any], Depends(require_role("editor"))],
    ) -> dict[str, Any]:
        """Drafts: editors only."""
        return {"user": claims["sub"], "articles": DRAFTS}

    return app


app = create_app(
    os.environ.get("AUTH_DISCOVERY_URL", "http://127.0.0.1:8000/.well-known/openid-configuration")
)
