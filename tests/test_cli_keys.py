"""`python -m app.cli rotate-signing-key [--revoke-old]`, run as an operator would."""

import os
import subprocess
import sys

import anyio
import jwt
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.config import PROJECT_ROOT, Settings
from tests.conftest import bearer

pytestmark = pytest.mark.usefixtures("restore_signing_keys")


async def rotate(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert settings.secret_key is not None
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("APP_", "JWT_"))},
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "APP_ENV": "development",
        "PLUGINS": "",
        **env,
    }
    result = await anyio.run_process(
        [sys.executable, "-m", "app.cli", "rotate-signing-key", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


async def test_revoke_old_ends_the_tokens_of_every_older_key(
    client: AsyncClient, app: FastAPI, settings: Settings, user_token: str
) -> None:
    result = await rotate(settings, "--revoke-old")
    context = app.state.context
    context.tokens.ring.replace(await context.signing_keys.load())  # what a minute would do

    assert result.returncode == 0, result.stderr
    kid = result.stdout.split("New signing key ", 1)[1].split()[0]
    assert "no longer work" in result.stdout
    assert jwt.get_unverified_header(user_token)["kid"] != kid
    assert (await client.get("/v1/users/me", headers=bearer(user_token))).status_code == 401
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [kid]


async def test_rotating_keeps_older_keys_published(
    client: AsyncClient, app: FastAPI, settings: Settings, user_token: str
) -> None:
    result = await rotate(settings)
    context = app.state.context
    context.tokens.ring.replace(await context.signing_keys.load())

    assert result.returncode == 0, result.stderr
    assert "stay published" in result.stdout
    assert (await client.get("/v1/users/me", headers=bearer(user_token))).status_code == 200


async def test_hs256_has_no_key_to_rotate(settings: Settings) -> None:
    result = await rotate(settings, JWT_ALGORITHM="HS256")

    assert result.returncode == 1
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr
