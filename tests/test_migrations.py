"""The Alembic migrations: reversible, and in step with the models."""

import secrets
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from app.core.config import PROJECT_ROOT
from tests.conftest import _admin_dsn


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture
async def scratch_database_url() -> AsyncIterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards."""
    admin_dsn = _admin_dsn()
    name = f"auth_migrations_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(admin_dsn).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def tables(database_url: str) -> set[str]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


def applied(script: ScriptDirectory, current: set[str]) -> set[str]:
    """Every revision the database has: those it records and all they rest on (Alembic
    records only the newest, and a plugin's revision also covers the core revision it
    `depends_on`)."""
    seen: set[str] = set()
    waiting = list(current)
    while waiting:
        revision = script.get_revision(waiting.pop())
        if revision is None or revision.revision in seen:
            continue
        seen.add(revision.revision)
        for below in (revision.down_revision, revision.dependencies):
            waiting.extend([below] if isinstance(below, str) else below or ())
    return seen


async def current_revisions(database_url: str) -> set[str]:
    """The revisions the database records."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await connection.fetch("SELECT version_num FROM alembic_version")
    finally:
        await connection.close()
    return {row["version_num"] for row in rows}


async def test_migrations_upgrade_downgrade_and_upgrade_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    script = ScriptDirectory.from_config(config)
    heads = set(script.get_heads())

    await anyio.to_thread.run_sync(command.upgrade, config, "heads")
    upgraded = await tables(scratch_database_url)
    assert {"users", "qr_login_requests"} <= upgraded
    assert heads <= applied(script, await current_revisions(scratch_database_url))

    await anyio.to_thread.run_sync(command.downgrade, config, "base")
    assert await tables(scratch_database_url) <= {"alembic_version"}

    await anyio.to_thread.run_sync(command.upgrade, config, "heads")
    assert await tables(scratch_database_url) == upgraded
    assert heads <= applied(script, await current_revisions(scratch_database_url))


async def test_each_migration_steps_down_and_up_again(scratch_database_url: str) -> None:
    config = alembic_config(scratch_database_url)
    script = ScriptDirectory.from_config(config)
    revisions = list(reversed(list(script.walk_revisions())))

    for revision in revisions:
        # A branch's first revision steps down to that branch's base, not the core's.
        below = revision.down_revision or (
            f"{next(iter(revision.branch_labels))}@base" if revision.branch_labels else "base"
        )
        await anyio.to_thread.run_sync(command.upgrade, config, revision.revision)
        await anyio.to_thread.run_sync(command.downgrade, config, str(below))
        await anyio.to_thread.run_sync(command.upgrade, config, revision.revision)
        assert revision.revision in applied(script, await current_revisions(scratch_database_url))


async def test_models_and_migrations_agree(migrated_database_url: str) -> None:
    # `alembic check`: autogenerate against the migrated database finds nothing to do.
    await anyio.to_thread.run_sync(command.check, alembic_config(migrated_database_url))


async def test_the_core_and_each_plugin_branch_have_a_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    folders = [Path(location) for location in script.version_locations]

    heads = [script.get_revision(head) for head in script.get_heads()]

    assert sorted(Path(head.path).parent for head in heads if head) == sorted(folders)


def sqlite_objects(path: Path) -> set[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as connection:
        rows = connection.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return {(kind, name) for kind, name in rows}


def test_migrations_upgrade_and_downgrade_on_sqlite(tmp_path: Path) -> None:
    # (`alembic check` can't compare expression indexes on SQLite, hence this inventory.)
    database = tmp_path / "app.db"
    config = alembic_config(f"sqlite+aiosqlite:///{database}")

    command.upgrade(config, "heads")
    upgraded = sqlite_objects(database)
    command.downgrade(config, "base")
    downgraded = sqlite_objects(database)
    command.upgrade(config, "heads")

    assert {("table", "users"), ("index", "uq_users_email_lower")} <= upgraded
    assert downgraded <= {("table", "alembic_version")}
    assert sqlite_objects(database) == upgraded
