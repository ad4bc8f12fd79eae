"""The start-up shared by the app and the CLI closes everything it opened."""

import secrets

import redis.asyncio as redis
from sqlalchemy import text

from app.bootstrap import build_events, started
from app.core.config import Settings


async def test_started_closes_its_database_and_redis_connections(settings: Settings) -> None:
    name = f"bootstrap-test-{secrets.token_hex(4)}"
    url = f"redis://127.0.0.1:6379/0?client_name={name}"
    configured = settings.model_copy(
        update={"rate_limit_storage_url": url, "rate_limits_enabled": True}
    )
    observer = redis.Redis(host="127.0.0.1", port=6379)

    async def ours() -> list[object]:
        return [c for c in await observer.client_list() if c.get("name") == name]

    try:
        async with started(configured, build_events(configured, [])) as context:
            throttle = context.throttle
            await throttle.hit(throttle.per_address, "bootstrap-test", name)
            async with context.engine.connect() as connection:
                pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            assert await ours()
        after = await ours()
        async with context.engine.connect() as connection:
            still_there = await connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        await context.engine.dispose()
    finally:
        await observer.aclose()

    assert after == []
    assert still_there == 0
