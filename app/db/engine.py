"""Engine and session factory, built from DATABASE_URL as PaaS providers hand it out."""

import re
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings

# libpq URL parameters asyncpg has no keyword for; the useful ones are translated below.
_LIBPQ_ONLY_PARAMS = (
    "sslmode",
    "channel_binding",
    "target_session_attrs",
    "gssencmode",
    "application_name",
    "connect_timeout",
    "options",
)


def normalize_database_url(raw: str) -> URL:
    """Accept postgres://, postgresql:// and postgresql+asyncpg:// (and sqlite) URLs."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    url = make_url(raw)
    if url.get_backend_name() == "postgresql":
        query = {k: v for k, v in url.query.items() if k not in _LIBPQ_ONLY_PARAMS}
        sslmode = url.query.get("sslmode")
        if isinstance(sslmode, str) and "ssl" not in query:
            query["ssl"] = sslmode  # asyncpg takes libpq's sslmode values as `ssl`
        url = url.set(drivername="postgresql+asyncpg", query=query)
    elif url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    return url


def libpq_connect_args(raw: str) -> dict[str, Any]:
    """asyncpg's arguments for libpq's application_name, options (-c name=value) and
    connect_timeout, which the URL can't pass to it."""
    query = make_url(raw.replace("postgres://", "postgresql://", 1)).query
    server_settings: dict[str, str] = {}
    if isinstance(name := query.get("application_name"), str):
        server_settings["application_name"] = name
    if isinstance(options := query.get("options"), str):
        for option in re.findall(r"-c\s*(\S+)", options):
            key, _, value = option.partition("=")
            server_settings[key] = value
    args: dict[str, Any] = {"server_settings": server_settings} if server_settings else {}
    if isinstance(timeout := query.get("connect_timeout"), str):
        args["timeout"] = float(timeout)
    return args


def create_engine(settings: Settings) -> AsyncEngine:
    url = normalize_database_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pool_pre_ping: with asyncpg it costs three extra round trips per request. A
    # connection that died (database restart) fails its request with a 503, and SQLAlchemy
    # then replaces the whole pool.
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_recycle=1800,
        connect_args=libpq_connect_args(settings.database_url),
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
