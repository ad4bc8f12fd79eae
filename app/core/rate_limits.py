"""Brakes on the endpoints that hash passwords, on the `limits` library.

Memory storage is per process; set RATE_LIMIT_STORAGE_URL=redis://... to share counts
between workers and servers. If the store is unreachable we let requests through (and
log it): an outage of the limiter must not lock everyone out.
"""

import logging
import math
import time
from typing import Any

import redis.asyncio as redis
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.config import Settings
from app.core.errors import TooManyRequests

logger = logging.getLogger(__name__)


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        url = settings.rate_limit_storage_url
        options: dict[str, Any] = {}
        self._pool: redis.ConnectionPool | None = None
        if url.startswith(("redis://", "rediss://")):
            # Our own pool, so shutdown can close its connections.
            self._pool = redis.ConnectionPool.from_url(
                url, socket_timeout=1, socket_connect_timeout=1
            )
            options = {"implementation": "redispy", "connection_pool": self._pool}
        self._limiter = MovingWindowRateLimiter(storage_from_string(f"async+{url}", **options))
        self.login_failures = parse(settings.rate_limit_login_failures)
        self.per_address = parse(settings.rate_limit_per_address)
        self.registrations = parse(settings.rate_limit_registrations)
        self.emails = parse(settings.rate_limit_emails)

    async def hit(self, limit: RateLimitItem, *keys: str) -> None:
        """Count one attempt; raise TooManyRequests if that goes over the limit."""
        if self.enabled and not await self._ask(self._limiter.hit, limit, *keys):
            raise TooManyRequests(await self._retry_after(limit, *keys))

    async def check(self, limit: RateLimitItem, *keys: str) -> None:
        """Raise TooManyRequests if the limit is already used up, without counting."""
        if self.enabled and not await self._ask(self._limiter.test, limit, *keys):
            raise TooManyRequests(await self._retry_after(limit, *keys))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def _ask(self, method: object, limit: RateLimitItem, *keys: str) -> bool:
        try:
            allowed: bool = await method(limit, *keys)  # type: ignore[operator]
        except Exception:
            logger.exception("Rate-limit store unavailable; allowing the request")
            return True
        return allowed

    async def _retry_after(self, limit: RateLimitItem, *keys: str) -> int:
        try:
            stats = await self._limiter.get_window_stats(limit, *keys)
        except Exception:
            return limit.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))
