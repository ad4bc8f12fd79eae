"""`make run`'s zero-setup path (SQLite) with two-step sign-in on: set up, then sign in."""

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from httpx import AsyncClient

from app.main import create_app
from tests.conftest import bearer, make_settings, run_migrations, running
from tests.plugins.totp.conftest import code, enrolled_user, password_step, second_step


@pytest.fixture
async def sqlite_client(tmp_path: Path) -> AsyncIterator[AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await anyio.to_thread.run_sync(run_migrations, url)
    async with running(create_app(make_settings(url, plugins=["totp"]))) as client:
        yield client


async def test_two_step_sign_in_works_on_sqlite(sqlite_client: AsyncClient) -> None:
    ann = await enrolled_user(sqlite_client)
    enroll_again = await sqlite_client.post(
        "/v1/mfa/totp/enroll",
        json={"current_password": "correct horse battery"},
        headers=bearer(ann.token),
    )
    held = await password_step(sqlite_client, ann.email)
    current = code(ann.secret)

    signed_in = await second_step(sqlite_client, held["mfa_token"], code=current)
    replay = await second_step(
        sqlite_client,
        (await password_step(sqlite_client, ann.email))["mfa_token"],
        code=current,
    )
    recovery = await second_step(
        sqlite_client,
        (await password_step(sqlite_client, ann.email))["mfa_token"],
        recovery_code=ann.recovery_codes[0],
    )

    assert enroll_again.status_code == 409
    assert signed_in.status_code == 200, signed_in.text
    assert replay.status_code == 401
    assert recovery.status_code == 200
