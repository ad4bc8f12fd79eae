"""Who the client is: forwarded headers only from TRUSTED_PROXIES, and only real addresses."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import Request
from httpx import AsyncClient

from app.api.client import client_address, client_of
from tests.conftest import PASSWORD, bearer, register

# httpx's ASGI transport connects "from" 127.0.0.1.
PEER = "127.0.0.1"


def request_from(host: str) -> Request:
    return Request({"type": "http", "headers": [], "client": (host, 1234)})


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:DB8::0:1", "2001:db8::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        # A zone names an interface of the proxy's host, not the client: any length.
        ("FE80::1%eth0", "fe80::1"),
        ("fe80::1%" + "z" * 100, "fe80::1"),
        ("x" * 100, None),
        ("192.0.2.1; DROP TABLE", None),
        ("testclient", None),
        ("", None),
    ],
)
def test_client_address_is_a_canonical_ip_or_nothing(host: str, expected: str | None) -> None:
    assert client_of(request_from(host)).ip_address == expected


def test_a_client_without_an_address_shares_one_rate_limit_key() -> None:
    assert client_address(request_from("not an address")) == "unknown"


async def sessions_ip_after_login(client: AsyncClient, email: str, forwarded: str) -> Any:
    await register(client, email)
    login = await client.post(
        "/v1/users/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded},
    )
    assert login.status_code == 200, login.text
    listed = await client.get("/v1/users/me/sessions", headers=bearer(login.json()["access_token"]))
    return [session["ip_address"] for session in listed.json()]


async def test_forwarded_for_is_ignored_by_default(client: AsyncClient) -> None:
    assert await sessions_ip_after_login(client, "ann@example.com", "203.0.113.7") == [PEER]


@pytest.mark.parametrize(
    ("forwarded", "client_ip"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # The left-most entries are whatever the client wrote; the proxy appended the last.
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # Hops through further trusted proxies are skipped.
        ("203.0.113.7, 10.1.2.3, 127.0.0.1", "203.0.113.7"),
        ("2001:DB8::7", "2001:db8::7"),
        ("fe80::7%" + "z" * 60, "fe80::7"),  # was a 500: longer than the column
    ],
)
async def test_trusted_proxy_gives_the_right_most_untrusted_address(
    client_for: Callable[..., Any], forwarded: str, client_ip: str
) -> None:
    async with client_for(trusted_proxies=[PEER, "10.0.0.0/8"]) as client:
        addresses = await sessions_ip_after_login(client, "ann@example.com", forwarded)

    assert addresses == [client_ip]


async def test_forwarded_for_from_a_peer_outside_trusted_proxies_is_ignored(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(trusted_proxies=["10.0.0.0/8"]) as client:
        addresses = await sessions_ip_after_login(client, "ann@example.com", "203.0.113.7")

    assert addresses == [PEER]


@pytest.mark.parametrize("forwarded", ["x" * 100, "203.0.113.7:80:80", "203.0.113.7, <script>"])
async def test_malformed_forwarded_for_is_never_stored(
    client_for: Callable[..., Any], forwarded: str
) -> None:
    async with client_for(trusted_proxies=[PEER]) as client:
        addresses = await sessions_ip_after_login(client, "ann@example.com", forwarded)

    assert addresses == [None]


async def test_forwarded_proto_from_a_trusted_proxy_sets_the_scheme(
    client_for: Callable[..., Any],
) -> None:
    # The refresh cookie's same-origin check compares Origin with the request's own URL.
    headers = {"Origin": "https://testserver", "X-Refresh-Token-Delivery": "cookie"}
    cookies = {"refresh_token": "not-a-real-token"}

    async with client_for(trusted_proxies=[PEER]) as client:
        client.cookies.update(cookies)
        behind_tls = await client.post(
            "/v1/users/refresh", headers={**headers, "X-Forwarded-Proto": "https"}
        )
    async with client_for() as client:
        client.cookies.update(cookies)
        untrusted = await client.post(
            "/v1/users/refresh", headers={**headers, "X-Forwarded-Proto": "https"}
        )

    assert behind_tls.json()["code"] == "REFRESH_TOKEN_INVALID"  # past the origin check
    assert untrusted.json()["code"] == "CSRF_CHECK_FAILED"
