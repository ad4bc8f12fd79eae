"""`GET /metrics` for Prometheus: to loopback clients, or with `Bearer <METRICS_TOKEN>`.

Anyone else gets the same 404 as an unknown path, so the endpoint isn't advertised.
"""

import ipaddress
import secrets

from fastapi import APIRouter, HTTPException, Request, Response

from app.core.metrics import exposition

router = APIRouter(include_in_schema=False)

# A proxy marks what it forwards: such a request is not the local scraper's, even when
# the proxy itself connects from loopback. Not every proxy sends X-Forwarded-For (a common
# nginx setup sends only X-Real-IP), so any of the usual marks counts.
FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-real-ip",
        b"via",
    }
)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    if not _may_scrape(request):
        raise HTTPException(404)
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _may_scrape(request: Request) -> bool:
    return _from_loopback(request) or _has_token(request)


def _from_loopback(request: Request) -> bool:
    if request.client is None or any(name in FORWARDING_HEADERS for name, _ in request.headers.raw):
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _has_token(request: Request) -> bool:
    token = request.app.state.context.settings.metrics_token
    if token is None:
        return False
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    return scheme.lower() == "bearer" and secrets.compare_digest(credentials.encode(), expected)
