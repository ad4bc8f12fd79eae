"""Alembic environment: async engine, our naming convention, SQLite-safe batch mode."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from app.core.config import Settings
from app.db import models  # noqa: F401  (registers every table on Base.metadata)
from app.db.base import Base
from app.db.engine import create_engine, normalize_database_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def settings() -> Settings:
    # Tests and tools pass a URL in; everyone else gets DATABASE_URL.
    if url := config.attributes.get("database_url"):
        return Settings(database_url=url)
    return Settings()


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    url = normalize_database_url(settings().database_url)
    configure(url=url.render_as_string(hide_password=False))
    with context.begin_transaction():
        context.run_migrations()


def run_sync(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(settings(), bounded_commands=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_sync)
    finally:
        await engine.dispose()  # a failed migration must not leave a connection open


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
