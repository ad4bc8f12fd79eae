"""Giving and deleting roles at the same time: no request fails with a 5xx or deadlocks,
and users.roles ends equal to what user_roles records."""

import asyncio
from collections import defaultdict

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import bearer, register

USERS = 6
ROUNDS = 4


async def test_concurrent_gives_and_deletes_leave_the_copy_in_step(
    client: AsyncClient, superuser_token: str, db_engine: AsyncEngine
) -> None:
    root = bearer(superuser_token)
    users = [(await register(client, f"user{i}@example.com"))["id"] for i in range(USERS)]
    names = [f"role{i}" for i in range(ROUNDS)]
    for name in names:
        assert (await client.post("/v1/roles", json={"name": name}, headers=root)).is_success

    async def give(user_id: str) -> list[int]:
        return [
            (await client.put(f"/v1/users/{user_id}/roles", json=names, headers=root)).status_code
            for _ in range(ROUNDS)
        ]

    async def delete_all() -> list[int]:
        statuses = []
        for name in names:
            await asyncio.sleep(0)
            statuses.append((await client.delete(f"/v1/roles/{name}", headers=root)).status_code)
        return statuses

    results = await asyncio.gather(delete_all(), *(give(user_id) for user_id in users))

    assert results[0] == [204] * ROUNDS
    # A PUT that ran after some deletion names a role that is gone: a 400, never a 5xx.
    assert {status for statuses in results[1:] for status in statuses} <= {200, 400}
    async with db_engine.connect() as connection:
        recorded: defaultdict[str, list[str]] = defaultdict(list)
        for row in await connection.execute(
            text("SELECT user_id, role_name FROM user_roles ORDER BY role_name")
        ):
            recorded[str(row.user_id)].append(row.role_name)
        copies = {
            str(row.id): row.roles
            for row in await connection.execute(text("SELECT id, roles FROM users"))
        }
    assert recorded == {}  # every role is gone...
    assert {user_id: copies[user_id] for user_id in users} == dict.fromkeys(
        users, []
    )  # ...and so is every copy
