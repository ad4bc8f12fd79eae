"""`python -m app.cli create-superuser EMAIL`, run as an operator would: a separate process."""

import os
import subprocess
import sys

import anyio
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import PROJECT_ROOT
from tests.conftest import PASSWORD, bearer, login, register
from tests.live_server import RUN_SECRET_KEY

ADMIN_PASSWORD = "operator chosen passphrase"


async def run_cli(
    database_url: str, *args: str, password: str | None = ADMIN_PASSWORD, plugins: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"APP_ENV", "SECRET_KEY", "DATABASE_URL", "SUPERUSER_PASSWORD", "PLUGINS"}
    }
    env.update(
        DATABASE_URL=database_url,
        BCRYPT_ROUNDS="4",
        SECRET_KEY=RUN_SECRET_KEY,
        APP_ENV="development",
        RATE_LIMITS_ENABLED="false",
        PLUGINS=plugins,
    )
    if password is not None:
        env["SUPERUSER_PASSWORD"] = password
    result = await anyio.run_process(
        [sys.executable, "-m", "app.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


async def _flags(db_engine: AsyncEngine, email: str) -> tuple[bool, bool] | None:
    async with db_engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT is_superuser, is_active FROM users WHERE email = :email"),
                {"email": email},
            )
        ).first()
    return None if row is None else (row[0], row[1])


async def test_create_superuser_makes_an_account_that_can_administer(
    client: AsyncClient, migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")

    result = await run_cli(migrated_database_url, "create-superuser", "Root@Example.com")

    assert result.returncode == 0, result.stderr
    assert "root@example.com" in result.stdout
    assert await _flags(db_engine, "root@example.com") == (True, True)
    token = await login(client, "root@example.com", ADMIN_PASSWORD)
    listing = await client.get("/v1/users/", headers=bearer(token))
    assert listing.status_code == 200
    assert listing.json()["total"] == 2


async def test_create_superuser_promotes_an_existing_account_keeping_its_password(
    client: AsyncClient, migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")

    result = await run_cli(migrated_database_url, "create-superuser", "ANN@example.com")

    assert result.returncode == 0, result.stderr
    assert "Promoted" in result.stdout
    assert await _flags(db_engine, "ann@example.com") == (True, True)
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 1
    token = await login(client, "ann@example.com", PASSWORD)
    assert (await client.get("/v1/users/", headers=bearer(token))).status_code == 200


async def test_create_superuser_reactivates_a_deactivated_account(
    client: AsyncClient, migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")
    async with db_engine.begin() as connection:
        await connection.execute(text("UPDATE users SET is_active = false"))

    result = await run_cli(migrated_database_url, "create-superuser", "ann@example.com")

    assert result.returncode == 0, result.stderr
    assert await _flags(db_engine, "ann@example.com") == (True, True)


async def test_create_superuser_with_invalid_email_exits_2(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    result = await run_cli(migrated_database_url, "create-superuser", "not-an-email")

    assert result.returncode == 2
    assert "not-an-email" in result.stderr
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 0


async def test_create_superuser_with_weak_password_exits_1_with_the_reason(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    result = await run_cli(
        migrated_database_url, "create-superuser", "root@example.com", password="short"
    )

    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert await _flags(db_engine, "root@example.com") is None


async def test_create_superuser_with_password_containing_the_email_exits_1(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    result = await run_cli(
        migrated_database_url,
        "create-superuser",
        "root@example.com",
        password="root@example.com-pass",
    )

    assert result.returncode == 1
    assert "email" in result.stderr
    assert await _flags(db_engine, "root@example.com") is None


async def test_cli_without_a_command_exits_2_with_usage(migrated_database_url: str) -> None:
    result = await run_cli(migrated_database_url)

    assert result.returncode == 2
    assert "usage" in result.stderr.lower()


async def _audit(db_engine: AsyncEngine) -> list[tuple[str, str | None, str | None, object]]:
    async with db_engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT type, ip_address, user_agent, detail FROM audit_events ORDER BY occurred_at"
            )
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]


async def test_create_superuser_is_audited(
    client: AsyncClient, migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    created = await run_cli(migrated_database_url, "create-superuser", "root@example.com")
    await register(client, "ann@example.com")
    promoted = await run_cli(migrated_database_url, "create-superuser", "ann@example.com")

    assert (created.returncode, promoted.returncode) == (0, 0)
    cli_events = [event for event in await _audit(db_engine) if event[2] == "app.cli"]
    assert cli_events == [
        ("registered", None, "app.cli", {}),
        ("superuser_created", None, "app.cli", {"promoted": False}),
        ("superuser_created", None, "app.cli", {"promoted": True}),
    ]


async def test_create_superuser_reaches_plugins_whose_refusal_undoes_it(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    # tests.plugins.failing refuses every registration: the CLI must hear it too.
    result = await run_cli(
        migrated_database_url,
        "create-superuser",
        "root@example.com",
        plugins="tests.plugins.failing",
    )

    assert result.returncode != 0
    assert "plugin refused" in result.stderr
    assert await _flags(db_engine, "root@example.com") is None
    assert await _audit(db_engine) == []


async def test_create_superuser_without_a_password_or_a_terminal_says_what_to_do(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    # A PaaS one-off process: no SUPERUSER_PASSWORD and stdin is not a terminal.
    result = await run_cli(
        migrated_database_url, "create-superuser", "root@example.com", password=None
    )

    assert result.returncode == 1
    assert "SUPERUSER_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert await _flags(db_engine, "root@example.com") is None


async def test_create_superuser_with_the_database_down_exits_1_in_one_line() -> None:
    result = await run_cli(
        "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", "create-superuser", "root@example.com"
    )

    assert result.returncode == 1
    assert "database is unavailable" in result.stderr
    assert "Traceback" not in result.stderr


async def test_create_service_key_prints_a_working_key_once(
    client: AsyncClient, migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    result = await run_cli(migrated_database_url, "create-service-key", "billing-api")

    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_")
    introspected = await client.post(
        "/v1/tokens/introspect", data={"token": token}, headers=bearer(key)
    )
    assert introspected.status_code == 200
    assert introspected.json()["active"] is True
    async with db_engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM service_keys"))).one()
    assert (row.name, row.created_by) == ("billing-api", None)
    assert key not in repr(row)
    assert [event for event in await _audit(db_engine) if event[0].startswith("service_key")] == [
        (
            "service_key_created",
            None,
            "app.cli",
            {"service_key_id": str(row.id), "name": "billing-api"},
        )
    ]


@pytest.mark.parametrize("name", ["", " padded", "bad/name", "x" * 65])
async def test_create_service_key_with_a_bad_name_exits_2(
    migrated_database_url: str, db_engine: AsyncEngine, name: str
) -> None:
    result = await run_cli(migrated_database_url, "create-service-key", name)

    assert result.returncode == 2
    assert "Not a valid key name" in result.stderr
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM service_keys")) == 0


async def test_create_service_key_with_a_taken_name_exits_1(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    first = await run_cli(migrated_database_url, "create-service-key", "billing-api")
    second = await run_cli(migrated_database_url, "create-service-key", "Billing-API")

    assert (first.returncode, second.returncode) == (0, 1)
    assert "already has this name" in second.stderr
    assert "sk_" not in second.stdout
