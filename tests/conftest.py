"""Test harness: a fresh PostgreSQL database per run, built by the Alembic migrations.

TEST_DATABASE_URL names a server and an existing database to connect to for
CREATE/DROP DATABASE (default: postgresql://postgres@127.0.0.1:5432/postgres).
Each test starts from empty tables (truncated after every test), so order doesn't matter.
"""

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.cli import create_superuser
from app.core.config import PROJECT_ROOT, Settings
from app.db.engine import normalize_database_url
from app.db.models import SigningKey
from app.main import create_app
from tests.live_server import RUN_SECRET_KEY

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "correct horse battery"


def _admin_dsn() -> str:
    url = normalize_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run_migrations(
    database_url: str, revision: str = "heads", plugins: list[str] | None = None
) -> None:
    """Migrate the core and every first-party plugin (and the third-party `plugins`)."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["plugins"] = plugins or []
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


@pytest.fixture(scope="session")
async def migrated_database_url() -> AsyncIterator[str]:
    """A new database for this run, migrated to the heads; dropped afterwards."""
    admin_dsn = _admin_dsn()
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(
            f"PostgreSQL is unreachable at TEST_DATABASE_URL={admin_dsn!r}: {exc}\n"
            "Start PostgreSQL or point TEST_DATABASE_URL at a server you may create databases on.",
            returncode=3,
        )
    name = f"auth_test_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=name)
    database_url = url.render_as_string(hide_password=False)
    try:
        # Alembic's env.py runs its own event loop, so it gets a thread of its own.
        await anyio.to_thread.run_sync(run_migrations, database_url)
        yield database_url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def db_engine(migrated_database_url: str) -> AsyncIterator[AsyncEngine]:
    """A connection for tests to look at the database directly."""
    engine = create_async_engine(migrated_database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True)
async def _empty_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Tests that look at the database start and end with empty tables (the browser
    tests' server writes to the same database without this fixture)."""
    uses_database = "db_engine" in request.fixturenames
    if uses_database:
        await _truncate(request.getfixturevalue("db_engine"))
    yield
    if uses_database:
        await _truncate(request.getfixturevalue("db_engine"))


async def _truncate(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        tables = await connection.exec_driver_sql(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables "
            # The signing keys stay: every running app holds them in memory, and a
            # key made afresh would end the tokens of an app that hasn't reloaded yet.
            "WHERE schemaname = 'public' AND tablename NOT IN ('alembic_version', 'signing_keys')"
        )
        names = tables.scalar()
        if names:
            await connection.exec_driver_sql(f"TRUNCATE {names} CASCADE")


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database)."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    yield port
    for writer in connections:
        writer.close()
    server.close()
    await server.wait_closed()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "development",
        "database_url": database_url,
        "secret_key": RUN_SECRET_KEY,
        "bcrypt_rounds": 4,
        "database_pool_size": 5,
        "plugins": [],
        "rate_limits_enabled": False,  # tests/api/v1/users/test_rate_limits.py turns them on
        "cors_origins": [],
        # Production requires it; plain http is allowed there for loopback addresses only.
        "public_url": "http://127.0.0.1:8000",
        "secret_key_file": Path("/nonexistent/never-used"),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session")
def settings(migrated_database_url: str) -> Settings:
    return make_settings(migrated_database_url)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="session")
async def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: FastAPI, db_engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    async with running(app) as client:
        yield client


@pytest.fixture
def client_for(migrated_database_url: str, db_engine: AsyncEngine) -> Callable[..., Any]:
    """`async with client_for(**settings) as c:` — an app with other settings, same database."""

    def factory(**overrides: Any) -> Any:
        database_url = overrides.pop("database_url", migrated_database_url)
        return running(create_app(make_settings(database_url, **overrides)))

    return factory


async def register(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/v1/users/", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/v1/users/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def user_token(client: AsyncClient) -> str:
    await register(client, "ann@example.com")
    return await login(client, "ann@example.com")


@pytest.fixture
async def superuser_token(client: AsyncClient, settings: Settings) -> str:
    await create_superuser(settings, "root@example.com", PASSWORD)
    return await login(client, "root@example.com")


@pytest.fixture
async def restore_signing_keys(db_engine: AsyncEngine, app: FastAPI) -> AsyncIterator[None]:
    """Puts the signing keys back as they were after a test that rotates or drops them,
    and has the app other tests share reload them, so it signs with a stored key."""
    table = SigningKey.__table__
    async with db_engine.connect() as connection:
        rows = [dict(row) for row in (await connection.execute(select(table))).mappings()]
    yield
    async with db_engine.begin() as connection:
        await connection.execute(delete(SigningKey))
        if rows:
            await connection.execute(insert(SigningKey), rows)
    context = getattr(app.state, "context", None)  # None: not started by any test yet
    if context is not None and context.signing_keys is not None:
        context.tokens.ring.replace(await context.signing_keys.load())
