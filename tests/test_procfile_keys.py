"""Against the real web process: other services verify our tokens with the published keys
alone (PyJWT's PyJWKClient), and the example resource server does exactly that."""

import ast
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import anyio
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.cli import create_superuser, rotate_signing_key
from app.core.config import PROJECT_ROOT
from tests.conftest import PASSWORD, make_settings
from tests.live_server import (
    LOGS,
    ProcfileServer,
    free_port,
    procfile_server,
    unique_email,
)

DISCOVERY = "/.well-known/openid-configuration"
STARTUP_SECONDS = 30


@contextmanager
def serving_at_its_public_url(database_url: str, name: str, **env: str) -> Iterator[ProcfileServer]:
    """The web process with PUBLIC_URL its own loopback address (production allows http
    there), so the discovery document points at it: the port is chosen before it starts."""
    port = free_port()
    with (
        patch("tests.live_server.free_port", return_value=port),
        procfile_server(database_url, name, PUBLIC_URL=f"http://127.0.0.1:{port}", **env) as server,
    ):
        yield server


@pytest.fixture(scope="module")
def server(migrated_database_url: str) -> Iterator[ProcfileServer]:
    with serving_at_its_public_url(migrated_database_url, "test_procfile_keys") as running:
        yield running


def sign_in(server: ProcfileServer) -> str:
    email = unique_email("keys")
    account = {"email": email, "password": PASSWORD}
    httpx.post(f"{server.url}/v1/users/", json=account, timeout=10).raise_for_status()
    response = httpx.post(f"{server.url}/v1/users/login", json=account, timeout=10)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def discovery(server: ProcfileServer) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(server.url + DISCOVERY, timeout=5).json()
    return document


def verify_with_published_keys(server: ProcfileServer, token: str) -> dict[str, Any]:
    """What another service does: discovery document, PyJWKClient, nothing else."""
    document = discovery(server)
    key = jwt.PyJWKClient(document["jwks_uri"]).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=document["access_token_signing_alg_values_supported"],
        audience=document["access_token_audience"],
        issuer=document["issuer"],
    )
    return claims


def test_the_discovery_document_has_absolute_urls_of_this_server(server: ProcfileServer) -> None:
    document = discovery(server)

    assert document["jwks_uri"] == f"{server.url}/.well-known/jwks.json"
    assert document["token_endpoint"] == f"{server.url}/v1/oauth/token"
    assert document["access_token_signing_alg_values_supported"] == ["EdDSA"]


def test_a_token_verifies_with_the_published_key_alone(server: ProcfileServer) -> None:
    token = sign_in(server)

    claims = verify_with_published_keys(server, token)

    assert claims["sid"] and claims["sub"]


@pytest.mark.usefixtures("restore_signing_keys")
async def test_a_token_no_longer_verifies_once_its_key_is_dropped(
    server: ProcfileServer, migrated_database_url: str
) -> None:
    token = sign_in(server)
    settings = make_settings(migrated_database_url, secret_key=server.env["SECRET_KEY"])

    await rotate_signing_key(settings, revoke_old=True)

    await anyio.to_thread.run_sync(dropped_everywhere, migrated_database_url, server, token)


def dropped_everywhere(database_url: str, server: ProcfileServer, token: str) -> None:
    # A process that starts now (every running one within a minute) no longer has it.
    secret = server.env["SECRET_KEY"]
    with serving_at_its_public_url(database_url, "keys-after-revoke", SECRET_KEY=secret) as fresh:
        with pytest.raises(jwt.PyJWKClientError, match="Unable to find a signing key"):
            verify_with_published_keys(fresh, token)
        assert get(f"{fresh.url}/v1/users/me", token).status_code == 401
        assert verify_with_published_keys(fresh, sign_in(fresh))["sub"]


@pytest.fixture(scope="module")
def resource_server(server: ProcfileServer) -> Iterator[str]:
    """The example, run as its README says, with no secret in its environment at all."""
    port = free_port()
    environment = {
        "PATH": os.environ["PATH"],
        "AUTH_DISCOVERY_URL": server.url + DISCOVERY,
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / "resource-server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own example app
            [
                sys.executable,
                "-m",
                "uvicorn",
                "examples.resource_server.app:app",
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(url + "/articles", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        if process.poll() is not None:
            pytest.fail(f"The example exited:\n{log_path.read_text(errors='replace')}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_example_uses_none_of_the_services_code() -> None:
    source = (PROJECT_ROOT / "examples" / "resource_server" / "app.py").read_text()
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module or ""
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    assert "jwt" in imported
    assert not [name for name in imported if name == "app" or name.startswith("app.")]


def get(url: str, token: str | None = None) -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.get(url, headers=headers, timeout=10)


def test_the_example_lets_a_signed_in_user_read_articles(
    server: ProcfileServer, resource_server: str
) -> None:
    token = sign_in(server)

    response = get(f"{resource_server}/articles", token)

    assert response.status_code == 200
    assert response.json()["user"] == jwt.decode(token, options={"verify_signature": False})["sub"]


async def test_the_example_lets_an_editor_read_drafts(
    server: ProcfileServer, resource_server: str, migrated_database_url: str
) -> None:
    admin = unique_email("admin")
    settings = make_settings(migrated_database_url, secret_key=server.env["SECRET_KEY"])
    await create_superuser(settings, admin, PASSWORD)

    response = await anyio.to_thread.run_sync(read_drafts_as_editor, server, resource_server, admin)

    assert response.status_code == 200, response.text
    assert response.json()["articles"] == [{"id": 2, "title": "Draft article"}]


def read_drafts_as_editor(
    server: ProcfileServer, resource_server: str, admin: str
) -> httpx.Response:
    """A superuser gives a new user the editor role; the user's next token carries it."""
    admin_token = log_in(server, admin)
    headers = {"Authorization": f"Bearer {admin_token}"}
    created = httpx.post(
        f"{server.url}/v1/roles", json={"name": "editor"}, headers=headers, timeout=10
    )
    assert created.status_code == 201 or created.json()["code"] == "ROLE_ALREADY_EXISTS"
    editor = unique_email("editor")
    user = httpx.post(
        f"{server.url}/v1/users/", json={"email": editor, "password": PASSWORD}, timeout=10
    ).json()
    given = httpx.put(
        f"{server.url}/v1/users/{user['id']}/roles", json=["editor"], headers=headers, timeout=10
    )
    assert given.status_code == 200, given.text
    return get(f"{resource_server}/articles/drafts", log_in(server, editor))


def log_in(server: ProcfileServer, email: str) -> str:
    account = {"email": email, "password": PASSWORD}
    response = httpx.post(f"{server.url}/v1/users/login", json=account, timeout=10)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def test_the_example_refuses_a_user_without_the_role(
    server: ProcfileServer, resource_server: str
) -> None:
    response = get(f"{resource_server}/articles/drafts", sign_in(server))

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize("path", ["/articles", "/articles/drafts"])
def test_the_example_refuses_missing_bad_and_forged_tokens(
    server: ProcfileServer, resource_server: str, path: str
) -> None:
    real = sign_in(server)
    claims = jwt.decode(real, options={"verify_signature": False})
    kid = jwt.get_unverified_header(real)["kid"]
    attacker = ed25519.Ed25519PrivateKey.generate()
    forged = [
        "not-a-token",
        jwt.encode({**claims, "roles": ["editor"]}, attacker, "EdDSA", headers={"kid": kid}),
        jwt.encode({**claims, "roles": ["editor"]}, "", "none", headers={"kid": kid}),
        jwt.encode({**claims, "roles": ["editor"]}, "guessed-secret-" * 3, "HS256", {"kid": kid}),
        real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),
    ]

    assert get(resource_server + path).status_code == 401
    for token in forged:
        response = get(resource_server + path, token)
        assert response.status_code == 401, token
        assert response.json()["code"] == "UNAUTHORIZED"
