"""Who is asking: the client's address (rate-limit keys, the sessions list) and user agent.

Forwarded headers are resolved before this runs, by uvicorn's ProxyHeadersMiddleware with
the TRUSTED_PROXIES setting (see app/main.py): without a trusted proxy in front,
`request.client` is the TCP peer. What it holds is still checked here, because a trusted
proxy that passes a client-written X-Forwarded-For through without appending to it hands
on whatever the client wrote.
"""

import ipaddress

from fastapi import Request

from app.services.sessions import Client


def client_of(request: Request) -> Client:
    return Client(
        user_agent=request.headers.get("user-agent"),
        ip_address=_address(request.client.host) if request.client else None,
    )


def client_address(request: Request) -> str:
    """The client's address as a rate-limit key."""
    return client_of(request).ip_address or "unknown"


def _address(host: str) -> str | None:
    """`host` in its one canonical spelling, or None if it is not an IP address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    # One client, one key: "::ffff:192.0.2.1" is 192.0.2.1, "2001:DB8::1" is "2001:db8::1".
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.scope_id is not None:
            # "fe80::1%eth0": the zone names an interface of the host that saw the packet
            # (a proxy's), not the client, and may be of any length (the columns hold 45).
            return str(ipaddress.IPv6Address(address.packed))
    return str(address)
