"""What one authenticated request costs the database, counted on the app's own engine.

A round trip is a statement, or a BEGIN / COMMIT / ROLLBACK the driver really sends:
on a connection in autocommit mode SQLAlchemy still fires those events, but asyncpg
sends nothing for them. The token check runs its query on the pooled asyncpg connection
itself (app/db/session.py EntityRead), past SQLAlchemy's events: the driver counts those.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import asyncpg  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.engine import Connection

from tests.conftest import bearer

ME = "/v1/users/me"


@contextmanager
def counting(app: FastAPI) -> Iterator[Counter[str]]:
    """Count the statements and real transaction commands on `app`'s engine."""
    engine = app.state.context.engine.sync_engine
    counts: Counter[str] = Counter()

    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    def transaction_command(name: str) -> Any:
        def listener(connection: Connection, *_args: Any) -> None:
            options = connection.get_execution_options()
            if options.get("isolation_level") != "AUTOCOMMIT":
                counts[name] += 1

        return listener

    listeners = [("before_cursor_execute", statement)] + [
        (name, transaction_command(name)) for name in ("begin", "commit", "rollback")
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    execute = asyncpg.Connection._execute  # every statement with parameters run directly

    async def driver_statement(connection: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        counts["statements"] += 1
        return await execute(connection, *args, **kwargs)

    try:
        with patch.object(asyncpg.Connection, "_execute", driver_statement):
            yield counts
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    counts["round_trips"] = sum(
        counts[name] for name in ("statements", "begin", "commit", "rollback")
    )


@pytest.fixture
async def warm_token(client: AsyncClient, user_token: str) -> str:
    """A signed-in user whose /me statement the connection has already prepared."""
    assert (await client.get(ME, headers=bearer(user_token))).status_code == 200
    return user_token


async def test_me_costs_one_round_trip(app: FastAPI, client: AsyncClient, warm_token: str) -> None:
    with counting(app) as counts:
        response = await client.get(ME, headers=bearer(warm_token))

    assert response.status_code == 200
    assert dict(counts) == {"statements": 1, "round_trips": 1}


async def test_a_refused_token_costs_no_round_trip(app: FastAPI, client: AsyncClient) -> None:
    with counting(app) as counts:
        response = await client.get(ME, headers=bearer("not.a.token"))

    assert response.status_code == 401
    assert counts["round_trips"] == 0


async def test_a_write_after_the_token_check_commits_in_a_transaction(
    app: FastAPI, client: AsyncClient, warm_token: str
) -> None:
    with counting(app) as counts:
        response = await client.post("/v1/users/logout", headers=bearer(warm_token))

    assert response.status_code == 204, response.text
    assert (counts["begin"], counts["commit"], counts["rollback"]) == (1, 1, 0)
    assert (await client.get(ME, headers=bearer(warm_token))).status_code == 401
