"""Engine and session factory, built from DATABASE_URL as PaaS providers hand it out."""

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.config import Settings

# libpq-only URL parameters that asyncpg would reject as unknown keyword arguments.
_LIBPQ_ONLY_PARAMS = ("sslmode", "channel_binding", "target_session_attrs", "gssencmode")


def normalize_database_url(raw: str) -> URL:
    """Accept postgres://, postgresql:// and postgresql+asyncpg:// (and sqlite) URLs."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    url = make_url(raw)
    if url.get_backend_name() == "postgresql":
        query = dict(url.query)
        sslmode = query.get("sslmode")
        for param in _LIBPQ_ONLY_PARAMS:
            query.pop(param, None)
        if isinstance(sslmode, str) and "ssl" not in query:
            query["ssl"] = sslmode  # asyncpg takes libpq's sslmode values as `ssl`
        url = url.set(drivername="postgresql+asyncpg", query=query)
    elif url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    return url


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
        url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow,
        pool_recycle=1800,
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
