"""The example plugin in README (examples/plugins/hello) works as documented: its
migration, setting, event subscription, route and frontend part."""

import os
import secrets
from collections.abc import AsyncIterator

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from app.core.config import PROJECT_ROOT
from app.main import create_app
from examples.plugins.hello import plugin as hello
from tests.conftest import _admin_dsn, login, make_settings, register, run_migrations, running

HELLO = "examples.plugins.hello"


@pytest.fixture(scope="module")
async def hello_database_url() -> AsyncIterator[str]:
    """A database of its own, migrated with the hello plugin enabled."""
    admin = await asyncpg.connect(_admin_dsn(), timeout=5)
    name = f"auth_hello_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_admin_dsn()).set(drivername="postgresql+asyncpg", database=name)
    database_url = url.render_as_string(hide_password=False)
    try:
        await anyio.to_thread.run_sync(lambda: run_migrations(database_url, plugins=[HELLO]))
        yield database_url
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


async def test_the_release_step_migrates_an_enabled_third_party_plugin(
    hello_database_url: str, migrated_database_url: str
) -> None:
    assert "hello_sign_ins" in await tables(hello_database_url)
    assert "hello_sign_ins" not in await tables(migrated_database_url)  # not enabled there


async def test_hello_counts_sign_ins_and_greets_with_its_setting(
    hello_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_GREETING", "Bonjour")
    app = create_app(make_settings(hello_database_url, plugins=[HELLO]))
    async with running(app) as client:
        await register(client, "ann@example.com")
        await login(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        greeting = await client.get("/v1/hello", headers={"Authorization": f"Bearer {token}"})
        anonymous = await client.get("/v1/hello")
        listed = await client.get("/v1/plugins")
        module = await client.get("/plugins/hello/index.js")
        styles = await client.get("/plugins/hello/hello.css")

    assert greeting.json() == {"message": "Bonjour, ann@example.com!", "sign_ins": 2}
    assert anonymous.status_code == 401
    assert listed.json() == {
        "plugins": [
            {
                "name": "hello",
                "module": "/plugins/hello/index.js",
                "styles": ["/plugins/hello/hello.css"],
            }
        ]
    }
    assert "export function register(host)" in module.text
    assert styles.headers["content-type"].startswith("text/css")


async def test_turning_hello_off_keeps_its_table(hello_database_url: str) -> None:
    # As README says: a third-party plugin turned off stays in version_locations, so
    # migrations still know the revisions the database has of it.
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes.update(database_url=hello_database_url, configure_logger=False, plugins=[])
    locations = config.get_main_option("version_locations")
    folder = hello.migrations
    config.set_main_option("version_locations", f"{locations}{os.pathsep}{folder}")

    await anyio.to_thread.run_sync(command.upgrade, config, "heads")

    assert "hello_sign_ins" in await tables(hello_database_url)
    app = create_app(make_settings(hello_database_url))
    async with running(app) as client:
        assert (await client.get("/v1/hello")).status_code == 404
