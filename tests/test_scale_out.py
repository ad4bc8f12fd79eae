"""Two instances of the real web process (the Procfile's `web:` line) on one PostgreSQL
and one Redis behave as one service: whatever one instance learns, the other acts on at
once. Limits are counted in Redis; sessions, rotations and revocations live in the
database; both sign and check tokens with the same SECRET_KEY.

The redis-server is `REDIS_URL` when given, else one of the test's own on a free port.
"""

import os
import secrets
import shutil
import time
from collections.abc import Iterator

import httpx
import pytest

from app.core.keys import UNKNOWN_KID_RELOAD_SECONDS
from tests.conftest import PASSWORD
from tests.live_server import RUN_SECRET_KEY, ProcfileServer, procfile_server, unique_email
from tests.redis_server import RedisServer

LIMIT = 4  # failed logins per account and address (RATE_LIMIT_LOGIN_FAILURES)
SECRET_KEY = RUN_SECRET_KEY  # the instances' shared secret, as every server's of this run


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if given := os.environ.get("REDIS_URL"):
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing; install it (apt-get install redis-server).")
    server = RedisServer(binary)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def instance_env(redis_url: str, secret_key: str = SECRET_KEY) -> dict[str, str | None]:
    return {
        "SECRET_KEY": secret_key,
        "RATE_LIMIT_STORAGE_URL": redis_url,
        "RATE_LIMIT_LOGIN_FAILURES": f"{LIMIT}/minute",
        # Any reuse of a rotated refresh token counts as theft: no window for racing tabs.
        "REFRESH_REUSE_GRACE_SECONDS": "0",
        # The tests speak for many clients through one socket address.
        "TRUSTED_PROXIES": "127.0.0.1",
    }


@pytest.fixture(scope="module")
def instance_a(migrated_database_url: str, redis_url: str) -> Iterator[ProcfileServer]:
    with procfile_server(migrated_database_url, "scale-out-a", **instance_env(redis_url)) as a:
        yield a


@pytest.fixture(scope="module")
def instance_b(migrated_database_url: str, redis_url: str) -> Iterator[ProcfileServer]:
    with procfile_server(migrated_database_url, "scale-out-b", **instance_env(redis_url)) as b:
        yield b


@pytest.fixture
def a(instance_a: ProcfileServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=instance_a.url, timeout=30, headers=new_address()) as client:
        yield client


@pytest.fixture
def b(instance_b: ProcfileServer, a: httpx.Client) -> Iterator[httpx.Client]:
    """Instance B, seeing the same client (address) as `a` does."""
    with httpx.Client(base_url=instance_b.url, timeout=30, headers=a.headers) as client:
        yield client


def new_address() -> dict[str, str]:
    """A client address of this test's own (random: a REDIS_URL store may outlive the run),
    so its counts don't mix with another test's."""
    octets = (64 + secrets.randbelow(64), secrets.randbelow(256), 1 + secrets.randbelow(254))
    return {"X-Forwarded-For": "100.{}.{}.{}".format(*octets)}


def register(client: httpx.Client) -> str:
    email = unique_email("scale-out")
    response = client.post("/v1/users/", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return email


def log_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/v1/users/login", json={"email": email, "password": password})


def tokens(client: httpx.Client, email: str) -> tuple[str, str]:
    """A new session's access and refresh tokens. A 503 (an instance just started on a
    busy machine, its database slow to answer) is retried after its Retry-After, as the
    README tells clients to; nothing else is."""
    response = log_in(client, email)
    for _ in range(2):
        if response.status_code != 503:
            break
        time.sleep(float(response.headers["Retry-After"]))
        response = log_in(client, email)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["access_token"], body["refresh_token"]


def me(client: httpx.Client, access_token: str) -> httpx.Response:
    return client.get("/v1/users/me", headers={"Authorization": f"Bearer {access_token}"})


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/v1/users/refresh", json={"refresh_token": refresh_token})


def test_an_account_registered_on_one_instance_logs_in_on_the_other(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)

    access_token, _ = tokens(b, email)

    assert me(a, access_token).json()["email"] == email
    assert me(b, access_token).json()["email"] == email


def test_failed_logins_split_across_instances_lock_the_account_on_both(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)

    # Alternating instances: each sees only half the failures, the shared count sees all.
    statuses = [
        log_in(client, email, "wrong password").status_code for client in [a, b] * (LIMIT // 2)
    ]
    on_a, on_b = log_in(a, email), log_in(b, email)

    assert statuses == [400] * LIMIT
    for blocked in (on_a, on_b):
        assert blocked.status_code == 429, blocked.text
        assert blocked.json()["code"] == "TOO_MANY_REQUESTS"
        assert int(blocked.headers["Retry-After"]) >= 1


def test_the_shared_lock_holds_the_address_not_the_whole_account(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)
    for client in [a, b] * (LIMIT // 2):
        log_in(client, email, "wrong password")

    from_elsewhere = b.post(
        "/v1/users/login",
        json={"email": email, "password": PASSWORD},
        headers=new_address(),
    )

    assert log_in(b, email).status_code == 429
    assert from_elsewhere.status_code == 200, from_elsewhere.text


def test_a_logout_on_one_instance_ends_the_access_token_on_the_other_at_once(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)
    access_token, refresh_token = tokens(a, email)
    assert me(b, access_token).status_code == 200

    logout = a.post("/v1/users/logout", headers={"Authorization": f"Bearer {access_token}"})

    assert logout.status_code == 204
    assert me(b, access_token).status_code == 401
    assert refresh(b, refresh_token).status_code == 401


def test_a_refresh_token_rotated_on_one_instance_is_caught_reused_on_the_other(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)
    access_token, first_refresh = tokens(a, email)
    rotated = refresh(a, first_refresh)
    assert rotated.status_code == 200, rotated.text
    successor = rotated.json()["refresh_token"]

    reused = refresh(b, first_refresh)

    assert reused.status_code == 401
    assert reused.json()["code"] == "REFRESH_TOKEN_INVALID"
    assert "used twice" in reused.json()["message"]
    # Theft detected: the whole session ended, on both instances, for both token kinds.
    for client in (a, b):
        assert refresh(client, successor).status_code == 401
        assert me(client, access_token).status_code == 401
        assert me(client, rotated.json()["access_token"]).status_code == 401


def test_a_password_change_on_one_instance_ends_the_other_sessions_on_the_other(
    a: httpx.Client, b: httpx.Client
) -> None:
    email = register(a)
    here, _ = tokens(a, email)
    there, there_refresh = tokens(b, email)

    changed = a.patch(
        "/v1/users/me",
        json={"current_password": PASSWORD, "password": "a brand new passphrase"},
        headers={"Authorization": f"Bearer {here}"},
    )

    assert changed.status_code == 200, changed.text
    assert me(b, there).status_code == 401
    assert refresh(b, there_refresh).status_code == 401
    assert me(b, here).status_code == 200  # the session that made the change stays


def test_an_instance_with_another_secret_key_still_verifies_with_the_public_keys(
    migrated_database_url: str, redis_url: str, a: httpx.Client
) -> None:
    """Access tokens are checked with the public keys in the database, which need no
    secret. The other instance can't open the signing key, so it makes one of its own (and
    logs why); A, meeting its kid, loads it. (Refresh successors and emailed links still
    need the same SECRET_KEY everywhere.)"""
    email = register(a)
    access_token, _ = tokens(a, email)

    with (
        procfile_server(
            migrated_database_url,
            "scale-out-other-key",
            **instance_env(redis_url, secret_key=secrets.token_hex(32)),
        ) as other,
        httpx.Client(base_url=other.url, timeout=30, headers=new_address()) as client,
    ):
        assert me(client, access_token).status_code == 200
        other_token, _ = tokens(client, email)
        # A loads a kid it hasn't seen at once, unless it already reloaded for one in the
        # last UNKNOWN_KID_RELOAD_SECONDS (the bound on what random kids can cost it).
        assert accepted_within(a, other_token, seconds=3 * UNKNOWN_KID_RELOAD_SECONDS)
        assert "does not open the current signing key" in other.log()


def accepted_within(client: httpx.Client, access_token: str, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while (status := me(client, access_token).status_code) != 200:
        assert status == 401, status
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True
