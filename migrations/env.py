"""Alembic environment: async engine, our naming convention, SQLite-safe batch mode.

Plugins have Alembic branches of their own (see README, "Writing a plugin"): the
first-party ones are listed in alembic.ini's version_locations, so `alembic upgrade heads`
always migrates them (a plugin turned off keeps its tables, and the database's revisions
stay known); a third-party plugin's branch joins while PLUGINS names it.
"""

import asyncio
from logging.config import fileConfig
from pathlib import Path
from typing import Any

from alembic import context
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionMap
from sqlalchemy.engine import Connection

from app.core.config import Settings
from app.db import models  # noqa: F401  (registers every table on Base.metadata)
from app.db.base import Base
from app.db.engine import create_engine, normalize_database_url
from app.plugins import loader

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def settings() -> Settings:
    # Tests and tools pass a URL (and plugins) in; everyone else gets DATABASE_URL.
    overrides: dict[str, Any] = {}
    if url := config.attributes.get("database_url"):
        overrides["database_url"] = url
    if (plugins := config.attributes.get("plugins")) is not None:
        overrides["plugins"] = plugins
    return Settings(**overrides)


def add_plugin_branches(script: ScriptDirectory) -> set[str]:
    """Import every first-party plugin and those PLUGINS names (their models join
    Base.metadata), and add the version folders alembic.ini doesn't list; the tables of
    the core and these plugins."""
    plugins = [*loader.first_party_plugins(), *loader.load_plugins(settings().plugins)]
    known = {Path(location).resolve() for location in script.version_locations}
    extra = [
        str(folder)
        for folder in dict.fromkeys(loader.migration_folders(plugins))
        if folder.resolve() not in known
    ]
    if extra:
        # The command has not read a revision yet: let it read the new folders too.
        script.version_locations = [*script.version_locations, *extra]
        script.__dict__.pop("_version_locations", None)
        script.revision_map = RevisionMap(script._load_revisions)
    packages = ("app.db.", *(f"{loaded.module}." for loaded in plugins))
    return {
        mapper.local_table.name
        for mapper in Base.registry.mappers
        if mapper.class_.__module__.startswith(packages)
    }


OURS = add_plugin_branches(context.script)


def include_object(_: Any, name: str | None, type_: str, reflected: bool, __: Any) -> bool:
    """Autogenerate compares the core's and these plugins' tables only: another plugin's
    models imported in this process are not ours to create, and its tables in the database
    (a plugin turned off) are never dropped."""
    if type_ != "table":
        return True
    return name in OURS


def configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
        include_object=include_object,
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
