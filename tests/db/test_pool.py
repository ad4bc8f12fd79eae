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
def counting_connects() -> Iterator[list[object]]:
    """Every new database connection any pool opens while the block runs."""
    opened: list[object] = []

    def connected(dbapi_connection: object, _record: object) -> None:
        opened.append(dbapi_connection)

    event.listen(Pool, "connect", connected)
    try:
        yield opened
    finally:
        event.remove(Pool, "connect", connected)


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

        with counting_connects() as opened:
            for _ in range(20):
                answers = await asyncio.gather(
                    *(client.get("/v1/users/me", headers=headers) for _ in range(CONCURRENT))
                )
                assert {answer.status_code for answer in answers} == {200}

    assert opened == []
