"""Discovery for other services: the public keys (JWKS) and the server's metadata."""

from typing import Any

from fastapi import APIRouter, Request, Response

from app.api.deps import ContextDep
from app.api.v1.oauth.grants import grant_types_supported
from app.core.errors import SigningKeyUnavailable
from app.core.keys import ASYMMETRIC
from app.services.signing_keys import PREPUBLISH_SECONDS

router = APIRouter(prefix="/.well-known", tags=["discovery"])
# Shorter than the time a new key is published before it signs, and than a retired key's
# overlap: a resource server that honours it has every key before it meets a token.
JWKS_MAX_AGE_SECONDS = PREPUBLISH_SECONDS // 3
METADATA_MAX_AGE_SECONDS = 300
# What the core publishes; a plugin may add other names (Plugin.discovery), not these.
CORE_METADATA = frozenset(
    {
        "issuer",
        "jwks_uri",
        "token_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "access_token_signing_alg_values_supported",
        "access_token_audience",
    }
)


def _base_url(request: Request, context: ContextDep) -> str:
    settings = context.settings
    if "public_url" in settings.model_fields_set:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")  # only trusted proxies' X-Forwarded-Proto counts


@router.get("/jwks.json", responses=SigningKeyUnavailable.openapi())
async def jwks(response: Response, context: ContextDep) -> dict[str, list[dict[str, str]]]:
    """The public keys that sign access tokens (RFC 7517), the next and the recently
    retired one included: pick the key by the token's `kid`, and fetch this again when a
    token names a kid you don't have."""
    await context.tokens.ring.ready()  # an empty set now would be cached as the truth
    keyset = context.tokens.ring.keyset
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return {"keys": [key.jwk() for key in keyset.published()]}


@router.get("/openid-configuration")
async def openid_configuration(
    request: Request, response: Response, context: ContextDep
) -> dict[str, Any]:
    """Where the keys and endpoints are (the OpenID Connect discovery shape, limited to
    what this service does: it issues access tokens, no ID tokens)."""
    base = _base_url(request, context)
    published = {key.algorithm for key in context.tokens.ring.keyset.published()}
    if context.settings.jwt_algorithm in ASYMMETRIC:
        published.add(context.settings.jwt_algorithm)
    response.headers["Cache-Control"] = f"public, max-age={METADATA_MAX_AGE_SECONDS}"
    plugins: dict[str, str] = request.app.state.plugin_discovery
    return {
        # What access tokens carry as `iss` (JWT_ISSUER): compare it, not this URL.
        "issuer": context.settings.jwt_issuer,
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "token_endpoint": f"{base}/v1/oauth/token",
        "revocation_endpoint": f"{base}/v1/oauth/revoke",
        "introspection_endpoint": f"{base}/v1/tokens/introspect",
        "grant_types_supported": grant_types_supported(request.app),
        # Public clients (SPAs, apps): nothing authenticates the client itself.
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        # Not a registered name (there are no ID tokens to name it after): the algorithm
        # access tokens are signed with; only asymmetric ones can be checked by others.
        "access_token_signing_alg_values_supported": sorted(published),
        "access_token_audience": context.settings.jwt_audience,
        # The enabled plugins' endpoints (qr_login: RFC 8628's device_authorization_endpoint).
        **{name: f"{base}{path}" for name, path in plugins.items()},
    }
