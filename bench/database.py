"""Scratch PostgreSQL databases: created per benchmark, migrated with Alembic, dropped after."""

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import PROJECT_ROOT
from app.db.engine import normalize_database_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_dsn() -> str:
    """The server to create scratch databases on (BENCH_DATABASE_URL, else local postgres)."""
    raw = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    url = normalize_database_url(raw)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_engine() -> AsyncEngine:
    url = make_url(admin_dsn()).set(drivername="postgresql+asyncpg")
    return create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


async def server_version() -> str:
    """PostgreSQL's version, for the results' machine description."""
    admin = _admin_engine()
    try:
        async with admin.connect() as connection:
            return str(await connection.scalar(text("SHOW server_version")))
    finally:
        await admin.dispose()


def run_migrations(database_url: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")


@asynccontextmanager
async def scratch_database(prefix: str = "bench", *, migrate: bool = True) -> AsyncIterator[str]:
    """A new database `<prefix>_<random>`, migrated to head unless told not to; yields its
    SQLAlchemy URL and drops it afterwards, whatever happened."""
    admin = _admin_engine()
    name = f"{prefix}_{secrets.token_hex(4)}"
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.url.set(database=name)
    url_text = url.render_as_string(hide_password=False)
    try:
        if migrate:
            # Alembic's env.py runs its own event loop, so it gets a thread of its own.
            await anyio.to_thread.run_sync(run_migrations, url_text)
        yield url_text
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()
