"""The real web process behind a proxy it trusts (TRUSTED_PROXIES): who the client is."""

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.live_server import ProcfileServer, procfile_server_for_module, unique_email

# The tests connect from 127.0.0.1, so they speak as the trusted proxy.
server = procfile_server_for_module(TRUSTED_PROXIES="127.0.0.1,10.0.0.0/8")


def sign_in(client: httpx.Client, email: str, forwarded: str) -> httpx.Response:
    client.post("/v1/users/", json={"email": email, "password": PASSWORD})
    return client.post(
        "/v1/users/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-Forwarded-For": forwarded},
    )


def addresses(client: httpx.Client, access_token: str) -> list[str | None]:
    listed = client.get(
        "/v1/users/me/sessions", headers={"Authorization": f"Bearer {access_token}"}
    )
    assert listed.status_code == 200, listed.text
    return [session["ip_address"] for session in listed.json()]


@pytest.mark.parametrize(
    ("forwarded", "client_ip"),
    [
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),
        ("203.0.113.8, 10.0.0.5", "203.0.113.8"),
    ],
)
def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote(
    server: ProcfileServer, forwarded: str, client_ip: str
) -> None:
    with httpx.Client(base_url=server.url) as client:
        login = sign_in(client, unique_email("chain"), forwarded)
        assert login.status_code == 200, login.text

        assert addresses(client, login.json()["access_token"]) == [client_ip]


def test_malformed_forwarded_for_is_not_a_server_error_and_is_not_stored(
    server: ProcfileServer,
) -> None:
    junk = "x" * 100
    with httpx.Client(base_url=server.url) as client:
        login = sign_in(client, unique_email("junk"), junk)
        refresh = client.post(
            "/v1/users/refresh",
            json={"refresh_token": login.json().get("refresh_token", "")},
            headers={"X-Forwarded-For": junk},
        )
        assert (login.status_code, refresh.status_code) == (200, 200), (login.text, refresh.text)

        assert addresses(client, refresh.json()["access_token"]) == [None]


def test_limits_count_per_real_client_behind_the_proxy(server: ProcfileServer) -> None:
    wrong = {"email": unique_email("limited"), "password": "not the password"}
    with httpx.Client(base_url=server.url) as client:
        client.post("/v1/users/", json={"email": wrong["email"], "password": PASSWORD})
        # One client rotating what it writes in front of the proxy's own entry.
        statuses = [
            client.post(
                "/v1/users/login",
                json=wrong,
                headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.50"},
            ).status_code
            for n in range(1, 12)
        ]
        # Another client behind the same proxy is not locked out by the first.
        other = client.post(
            "/v1/users/login", json=wrong, headers={"X-Forwarded-For": "203.0.113.51"}
        )

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    assert other.status_code == 400
