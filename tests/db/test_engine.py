"""DATABASE_URL as hosting providers hand it out, and the engines built from it."""

import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db.engine import create_engine, normalize_database_url
from tests.conftest import make_settings


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:p@db.example:5432/app",
        "postgresql://u:p@db.example:5432/app",
        "postgresql+asyncpg://u:p@db.example:5432/app",
        "postgresql+psycopg2://u:p@db.example:5432/app",
    ],
    ids=["postgres", "postgresql", "asyncpg", "psycopg2"],
)
def test_postgres_urls_use_asyncpg_and_keep_the_rest(raw: str) -> None:
    url = normalize_database_url(raw)

    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "u",
        "p",
        "db.example",
        5432,
        "app",
    )


def test_password_with_special_characters_survives() -> None:
    url = normalize_database_url("postgres://u:p%40ss%2Fw%3Ard@db.example/app")

    assert url.password == "p@ss/w:rd"
    assert url.drivername == "postgresql+asyncpg"


@pytest.mark.parametrize("mode", ["require", "verify-full", "disable", "prefer"])
def test_sslmode_becomes_asyncpgs_ssl(mode: str) -> None:
    url = normalize_database_url(f"postgres://u:p@db.example/app?sslmode={mode}")

    assert dict(url.query) == {"ssl": mode}


def test_libpq_only_parameters_are_dropped_and_shared_ones_kept() -> None:
    url = normalize_database_url(
        "postgresql://u@db.example/app?sslmode=require&channel_binding=require"
        "&target_session_attrs=read-write&gssencmode=disable&keepalives=1"
    )

    # asyncpg understands target_session_attrs itself; the libpq-only ones go.
    assert dict(url.query) == {"ssl": "require", "target_session_attrs": "read-write"}


def test_explicit_ssl_wins_over_sslmode() -> None:
    url = normalize_database_url("postgresql://u@db.example/app?ssl=verify-full&sslmode=require")

    assert dict(url.query) == {"ssl": "verify-full"}


def test_url_without_query_has_none() -> None:
    assert dict(normalize_database_url("postgres://u@db.example/app").query) == {}


@pytest.mark.parametrize(
    "raw",
    ["sqlite:///data/app.db", "sqlite+aiosqlite:///data/app.db", "sqlite+pysqlite:///data/app.db"],
)
def test_sqlite_urls_use_aiosqlite(raw: str) -> None:
    url = normalize_database_url(raw)

    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == "data/app.db"


def test_sqlite_in_memory_stays_in_memory() -> None:
    url = normalize_database_url("sqlite:///:memory:")

    assert (url.drivername, url.database) == ("sqlite+aiosqlite", ":memory:")


async def test_sqlite_engine_creates_its_folder_and_enforces_foreign_keys(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "dir" / "app.db"
    engine = create_engine(make_settings(f"sqlite:///{database}"))
    try:
        async with engine.connect() as connection:
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            journal_mode = await connection.scalar(text("PRAGMA journal_mode"))
    finally:
        await engine.dispose()

    assert database.parent.is_dir()
    assert foreign_keys == 1
    assert journal_mode == "wal"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?sslmode=disable",
        "?sslmode=prefer&channel_binding=prefer&gssencmode=disable",
        "?target_session_attrs=read-write",
        "?application_name=auth-service",
        "?connect_timeout=10",
        "?options=-c%20statement_timeout%3D5000",
        pytest.param(
            "?connect_timeout=0",
        ),
        pytest.param("?keepalives=1&keepalives_idle=30"),
        pytest.param("?sslmode=prefer&sslrootcert=system"),
    ],
)
async def test_postgres_engine_connects_with_a_libpq_style_url(
    migrated_database_url: str, query: str
) -> None:
    libpq_style = migrated_database_url.replace("postgresql+asyncpg://", "postgres://")
    engine = create_engine(make_settings(libpq_style + query))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_libpq_application_name_and_options_reach_the_server(
    migrated_database_url: str,
) -> None:
    libpq_style = migrated_database_url.replace("postgresql+asyncpg://", "postgres://")
    query = "?application_name=auth-service&options=-c%20statement_timeout%3D4321"
    engine = create_engine(make_settings(libpq_style + query))
    try:
        async with engine.connect() as connection:
            name = await connection.scalar(text("SELECT current_setting('application_name')"))
            timeout = await connection.scalar(text("SELECT current_setting('statement_timeout')"))
    finally:
        await engine.dispose()

    assert (name, timeout) == ("auth-service", "4321ms")


async def test_connections_name_their_process_unless_the_url_names_them(
    migrated_database_url: str,
) -> None:
    """pg_stat_activity tells which instance holds a lock or a long transaction; options
    given in DATABASE_URL still reach the server beside the default name."""
    libpq_style = migrated_database_url.replace("postgresql+asyncpg://", "postgres://")
    engine = create_engine(make_settings(libpq_style + "?options=-c%20statement_timeout%3D4321"))
    try:
        async with engine.connect() as connection:
            name = await connection.scalar(text("SELECT current_setting('application_name')"))
            timeout = await connection.scalar(text("SELECT current_setting('statement_timeout')"))
    finally:
        await engine.dispose()

    assert (name, timeout) == (f"auth-service pid {os.getpid()}", "4321ms")


async def test_a_command_past_the_command_timeout_fails_and_its_connection_is_replaced(
    migrated_database_url: str,
) -> None:
    engine = create_engine(
        make_settings(migrated_database_url, database_command_timeout_seconds=0.5)
    )
    try:
        async with engine.connect() as connection:
            timed_out = await connection.scalar(text("SELECT pg_backend_pid()"))
            with pytest.raises(TimeoutError):
                await connection.execute(text("SELECT pg_sleep(5)"))
        async with engine.connect() as connection:  # a fresh connection, usable at once
            assert await connection.scalar(text("SELECT pg_backend_pid()")) != timed_out
    finally:
        await engine.dispose()


async def test_migrations_run_without_the_command_timeout(migrated_database_url: str) -> None:
    engine = create_engine(
        make_settings(migrated_database_url, database_command_timeout_seconds=0.2),
        bounded_commands=False,
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(0.5)"))
    finally:
        await engine.dispose()


async def _connect_seconds(url: str, **settings: Any) -> float:
    engine = create_engine(make_settings(url, **settings))
    started = time.perf_counter()
    try:
        with pytest.raises(TimeoutError):
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def test_the_connect_timeout_setting_bounds_a_connect_that_gets_no_answer(
    silent_server: int,
) -> None:
    url = f"postgres://postgres@127.0.0.1:{silent_server}/x"

    elapsed = await _connect_seconds(url, database_connect_timeout_seconds=0.5)

    assert elapsed < 5, elapsed  # asyncpg's own default is 60 s


async def test_a_connect_timeout_in_database_url_wins_over_the_setting(silent_server: int) -> None:
    url = f"postgres://postgres@127.0.0.1:{silent_server}/x?connect_timeout=1"

    elapsed = await _connect_seconds(url, database_connect_timeout_seconds=30)

    assert elapsed < 10, elapsed


def test_the_pool_timeout_setting_bounds_the_wait_for_a_pooled_connection() -> None:
    engine = create_engine(make_settings("postgres://u@db.example/app", database_pool_timeout=4))

    assert engine.pool.timeout() == 4  # type: ignore[attr-defined]
