"""Engine and session factory, built from DATABASE_URL as PaaS providers hand it out."""

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.tracing import trace_queries
from app.db.urls import libpq_connect_args, normalize_database_url

# /readyz promises an answer within 2 s; its checks get this much, the rest is margin.
PROBE_TIMEOUT_SECONDS = 1.5

__all__ = [
    "PROBE_TIMEOUT_SECONDS",
    "create_engine",
    "create_probe_engine",
    "create_sessionmaker",
    "normalize_database_url",
]


def create_engine(settings: Settings, *, bounded_commands: bool = True) -> AsyncEngine:
    """The request pool. Migrations pass `bounded_commands=False`: building an index on a
    big table may rightly take longer than any request should."""
    url = normalize_database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        trace_queries(engine, settings)
        return engine
    # No pool_pre_ping: with asyncpg it costs three extra round trips per request. A
    # connection that died (database restart) fails its request with a 503, and SQLAlchemy
    # then replaces the whole pool.
    # Past the pool timeout a request gets a 503 at once instead of queueing behind a
    # slow database (load shedding).
    # Last in, first out: below its peak the pool works on its few most recently used
    # connections, warm in the database's backends and in this process, instead of going
    # round all of them (a third less PostgreSQL CPU per token check, bench/results.md);
    # the rest idle until a burst needs them, and pool_recycle replaces any kept too long.
    engine = create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=1800,
        pool_use_lifo=True,
        connect_args=_connect_args(
            settings,
            url,
            connect_timeout=settings.database_connect_timeout_seconds,
            command_timeout=settings.database_command_timeout_seconds if bounded_commands else None,
        ),
    )
    event.listen(engine.sync_engine, "handle_error", _discard_timed_out_connection)
    trace_queries(engine, settings)
    return engine


def create_probe_engine(settings: Settings, *, timeout: float) -> AsyncEngine:
    """A connection of its own for every readiness probe, so a busy request pool can't
    make the service look down, and every wait fits in `timeout`."""
    url = normalize_database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return create_async_engine(url, poolclass=NullPool)
    connect_timeout = min(timeout, settings.database_connect_timeout_seconds)
    args = _connect_args(settings, url, connect_timeout=connect_timeout, command_timeout=timeout)
    return create_async_engine(url, poolclass=NullPool, connect_args=args)


def _connect_args(
    settings: Settings, url: URL, *, connect_timeout: float, command_timeout: float | None
) -> dict[str, Any]:
    # asyncpg's own defaults are a 60 s connect and no limit on a command: a database
    # that accepts but never answers would hold a request forever. A timeout that
    # DATABASE_URL states (`connect_timeout`, `timeout`, `command_timeout`) wins.
    args: dict[str, Any] = {"timeout": connect_timeout}
    if command_timeout is not None:
        args["command_timeout"] = command_timeout
    for name in url.query:
        args.pop(name, None)
    given = libpq_connect_args(settings.database_url)
    # Named in pg_stat_activity (and in our lock-wait diagnoses) by process, unless
    # DATABASE_URL names it: which instance holds a lock or a long transaction.
    server_settings = {"application_name": f"auth-service pid {os.getpid()}"}
    return args | given | {"server_settings": server_settings | given.get("server_settings", {})}


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _discard_timed_out_connection(context: ExceptionContext) -> None:
    # A command that timed out leaves its connection waiting for an answer that may never
    # come; the ROLLBACK or graceful close that would follow waits just as long. Abort it
    # at once and let the pool replace it (only it: one slow query says nothing about the
    # other connections).
    if not isinstance(context.original_exception, TimeoutError) or context.connection is None:
        return
    if not context.connection.invalidated:
        context.connection.connection.driver_connection.terminate()  # type: ignore[union-attr]
    context.is_disconnect = True
    context.invalidate_pool_on_disconnect = False


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
