"""The request pool under steady load: its connections are opened once and kept."""

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

from tests.conftest import bearer, login, register

POOL_SIZE = 3
CONCURRENT = 4 * POOL_SIZE


@contextmanager
def recording(pool_event: str) -> Iterator[list[object]]:
    """The database connection of every `pool_event` ("connect": a new one opened,
    "checkout": one handed out) in any pool while the block runs."""
    seen: list[object] = []

    def record(dbapi_connection: object, *_: object) -> None:
        seen.append(dbapi_connection)

    event.listen(Pool, pool_event, record)
    try:
        yield seen
    finally:
        event.remove(Pool, pool_event, record)


async def test_steady_concurrency_above_the_pool_size_opens_no_new_connections(
    client_for: Callable[..., Any],
) -> None:
    """Connections past the pool size (overflow) are closed as soon as they go back, so a
    pool with overflow connected again and again under steady load; the default has none:
    requests past the pool wait for a connection instead."""
    async with client_for(database_pool_size=POOL_SIZE) as client:
        await register(client, "ann@example.com")
        headers = bearer(await login(client, "ann@example.com"))
        for _ in range(3):  # warm: the pool has opened what it will keep
            await asyncio.gather(
                *(client.get("/v1/users/me", headers=headers) for _ in range(CONCURRENT))
            )

        with recording("connect") as opened:
            for _ in range(20):
                answers = await asyncio.gather(
                    *(client.get("/v1/users/me", headers=headers) for _ in range(CONCURRENT))
                )
                assert {answer.status_code for answer in answers} == {200}

    assert opened == []


async def test_requests_one_at_a_time_reuse_the_connection_last_given_back(
    client_for: Callable[..., Any],
) -> None:
    """Last in, first out: a quiet moment's requests keep to one warm connection (and one
    database backend) instead of going round the whole pool; on 2 shared cores this
    took a third off PostgreSQL's CPU per token check (bench/results.md)."""
    async with client_for(database_pool_size=POOL_SIZE) as client:
        await register(client, "ann@example.com")
        headers = bearer(await login(client, "ann@example.com"))
        await asyncio.gather(  # the pool opens all its connections
            *(client.get("/v1/users/me", headers=headers) for _ in range(CONCURRENT))
        )

        with recording("checkout") as taken:
            for _ in range(2 * POOL_SIZE):
                assert (await client.get("/v1/users/me", headers=headers)).status_code == 200

    assert len(taken) == 2 * POOL_SIZE
    assert len({id(connection) for connection in taken}) == 1
