"""After the database drops every connection (a restart, a failover), service recovers."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import bearer, login, register


async def test_dropped_connections_cost_at_most_one_503_then_requests_succeed(
    client_for: Any, db_engine: AsyncEngine, migrated_database_url: str
) -> None:
    # Named connections, so only this app's are dropped, not other tests' shared pool.
    url = f"{migrated_database_url}?application_name=reconnect-test"
    async with client_for(database_url=url) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 200

        async with db_engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'reconnect-test'"
                )
            )
        statuses = [
            (await client.get("/v1/users/me", headers=bearer(token))).status_code for _ in range(3)
        ]

    assert statuses[0] in (200, 503)
    assert statuses[1:] == [200, 200]
