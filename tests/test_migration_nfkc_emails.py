"""Migration 0003 rewrites emails stored in a compatibility form, and refuses to merge
two accounts into one address."""

import uuid

import anyio
import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from tests.test_migrations import alembic_config, scratch_database_url  # noqa: F401

FULLWIDTH_ANN = "ａｎｎ@example.com"


async def _connect(database_url: str) -> asyncpg.Connection:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(dsn, timeout=5)


async def _at_0002_with(database_url: str, emails: list[str]) -> dict[str, uuid.UUID]:
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(database_url), "0002")
    ids = {email: uuid.uuid4() for email in emails}
    connection = await _connect(database_url)
    try:
        await connection.executemany(
            "INSERT INTO users (id, email, hashed_password, is_active, is_superuser, is_verified)"
            " VALUES ($1, $2, 'x', true, false, false)",
            [(user_id, email) for email, user_id in ids.items()],
        )
    finally:
        await connection.close()
    return ids


async def _emails(database_url: str) -> dict[uuid.UUID, str]:
    connection = await _connect(database_url)
    try:
        rows = await connection.fetch("SELECT id, email FROM users")
    finally:
        await connection.close()
    return {row["id"]: row["email"] for row in rows}


async def test_upgrade_rewrites_a_compatibility_form_email_to_nfkc(
    scratch_database_url: str,  # noqa: F811
) -> None:
    ids = await _at_0002_with(
        scratch_database_url, [FULLWIDTH_ANN, "bob@example.com", "jürgen@müller.de"]
    )

    await anyio.to_thread.run_sync(command.upgrade, alembic_config(scratch_database_url), "0003")

    assert await _emails(scratch_database_url) == {
        ids[FULLWIDTH_ANN]: "ann@example.com",
        ids["bob@example.com"]: "bob@example.com",
        ids["jürgen@müller.de"]: "jürgen@müller.de",
    }


async def test_upgrade_refuses_to_merge_two_accounts_and_changes_nothing(
    scratch_database_url: str,  # noqa: F811
) -> None:
    ids = await _at_0002_with(
        scratch_database_url, ["ann@example.com", FULLWIDTH_ANN, "ｂｏｂ@example.com"]
    )
    before = await _emails(scratch_database_url)

    with pytest.raises(RuntimeError) as refused:
        await anyio.to_thread.run_sync(
            command.upgrade, alembic_config(scratch_database_url), "0003"
        )

    assert str(ids["ann@example.com"]) in str(refused.value)
    assert str(ids[FULLWIDTH_ANN]) in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert await _emails(scratch_database_url) == before
