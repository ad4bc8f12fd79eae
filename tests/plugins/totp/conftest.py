"""Two-step sign-in tests: an app with the totp plugin on, and the steps every test needs."""

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register, running

STEP_SECONDS = 30


@pytest.fixture(scope="module")
def totp_app(migrated_database_url: str) -> FastAPI:
    return create_app(make_settings(migrated_database_url, plugins=["totp"]))


@pytest.fixture(scope="module")
async def app_client(totp_app: FastAPI) -> AsyncIterator[AsyncClient]:
    """One app with PLUGINS=totp for the module (its tests empty the tables as they go)."""
    async with running(totp_app) as client:
        yield client


@pytest.fixture
async def client(app_client: AsyncClient, db_engine: AsyncEngine) -> AsyncClient:
    """`db_engine` asks conftest to start and end each test with empty tables."""
    return app_client


def code(secret: str, steps: int = 0) -> str:
    """The code an authenticator app shows `steps` time steps (30 s each) from now."""
    return pyotp.TOTP(secret).at(time.time() + steps * STEP_SECONDS)


async def clear_of_step_boundary() -> None:
    """Wait (under 2 s) if a time step is about to end, so a code made now is still the
    server's "now" when it checks it."""
    left = STEP_SECONDS - time.time() % STEP_SECONDS
    if left < 2:
        await asyncio.sleep(left + 0.05)


@dataclass
class Enrolled:
    email: str
    user_id: uuid.UUID
    token: str  # an access token of a session from before two-step was on
    secret: str
    recovery_codes: list[str]


async def enroll(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/mfa/totp/enroll", json={"current_password": PASSWORD}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def enrolled_user(client: AsyncClient, email: str = "ann@example.com") -> Enrolled:
    """A user with two-step on. Activated with the previous step's code, so the current
    code is still unused for the test's login."""
    user = await register(client, email)
    token = await login(client, email)
    secret = (await enroll(client, token))["secret"]
    await clear_of_step_boundary()
    response = await client.post(
        "/v1/mfa/totp/activate", json={"code": code(secret, -1)}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    return Enrolled(email, uuid.UUID(user["id"]), token, secret, response.json()["recovery_codes"])


async def password_step(client: AsyncClient, email: str, **headers: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/users/login", json={"email": email, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["mfa_required"] is True
    return body


async def second_step(client: AsyncClient, mfa_token: str, **fields: str) -> Any:
    return await client.post("/v1/users/login/mfa", json={"mfa_token": mfa_token, **fields})


async def forget_last_used_step(engine: AsyncEngine, user_id: uuid.UUID) -> None:
    """As if the last code was used long ago (tests of the drift window need that)."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE totp_credentials SET last_used_step = NULL WHERE user_id = :id"),
            {"id": user_id},
        )


def base32_bytes(secret: str) -> int:
    return len(base64.b32decode(secret + "=" * (-len(secret) % 8)))
