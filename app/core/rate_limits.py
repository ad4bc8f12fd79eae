"""Brakes on password guessing, registration and outgoing mail, on the `limits` library.

Memory storage is per process; set RATE_LIMIT_STORAGE_URL=redis://... to share counts
between workers and servers. Every count is taken with one `hit` on a moving window, which
is atomic in both stores (memory: check-and-append under a per-key asyncio lock with no
await inside; Redis: one Lua script), so concurrent requests can't all slip under a limit.

If the store is unreachable we let requests through: an outage of the limiter must not
lock every user out of their account, and the passwords stay bcrypt-hashed, so the brake
lost is speed, not secrecy. The outage is logged once, then once a minute with a count,
and once when the store is back; while it is down we stop asking it for a second at a
time, so a Redis that accepts connections but never answers costs at most one timeout.
"""

import ipaddress
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as redis
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from app.core.config import Settings
from app.core.errors import TooManyRequests
from app.core.metrics import RATE_LIMIT_STORE_ERRORS

logger = logging.getLogger(__name__)
T = TypeVar("T")

IPV6_NETWORK_PREFIX = 64  # one customer's allocation: counting single addresses is futile


def address_key(address: str) -> str:
    """The rate-limit key for a client address: IPv6 addresses count per /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_NETWORK_PREFIX}", strict=False))
    return str(ip)


class StoreHealth:
    """Fail open without a log storm: one warning when the store fails, one per interval
    with the count of skipped checks, one when it answers again."""

    log_interval_seconds = 60.0
    pause_seconds = 1.0  # after a failure, don't ask the store again this long

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.paused_until = 0.0
        self.last_log = 0.0
        self.unchecked_since_log = 0
        self.unchecked_total = 0

    def paused(self) -> bool:
        return self.down_since is not None and time.monotonic() < self.paused_until

    def failed(self, error: BaseException | None) -> None:
        now = time.monotonic()
        if error is not None:
            self.paused_until = now + self.pause_seconds
        self.unchecked_since_log += 1
        self.unchecked_total += 1
        RATE_LIMIT_STORE_ERRORS.inc()
        if self.down_since is None:
            self.down_since = self.last_log = now
            self.unchecked_since_log = 0
            logger.warning(
                "Rate-limit store unavailable (%s); skipping limit checks until it is back",
                _describe(error),
            )
        elif now - self.last_log >= self.log_interval_seconds:
            logger.warning(
                "Rate-limit store still unavailable (%s): %d limit checks skipped "
                "in the last %.0f s",
                _describe(error),
                self.unchecked_since_log,
                now - self.last_log,
            )
            self.last_log, self.unchecked_since_log = now, 0

    def answered(self) -> None:
        if self.down_since is not None:
            logger.warning(
                "Rate-limit store is back after %.1f s; %d limit checks were skipped",
                time.monotonic() - self.down_since,
                self.unchecked_total,
            )
            self.down_since = None
            self.unchecked_since_log = self.unchecked_total = 0


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "paused after an error"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class Throttle:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limits_enabled
        url = settings.rate_limit_storage_url
        options: dict[str, Any] = {}
        self._pool: redis.ConnectionPool | None = None
        if url.startswith(("redis://", "rediss://")):
            timeout = settings.rate_limit_storage_timeout_seconds
            # Our own pool, so shutdown can close its connections; short timeouts and no
            # retries, so a store that hangs costs a request at most one timeout.
            self._pool = redis.ConnectionPool.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            options = {"implementation": "redispy", "connection_pool": self._pool}
        self._limiter = MovingWindowRateLimiter(storage_from_string(f"async+{url}", **options))
        self.health = StoreHealth()
        self.login_failures = parse(settings.rate_limit_login_failures)
        self.per_address = parse(settings.rate_limit_per_address)
        self.registrations = parse(settings.rate_limit_registrations)
        self.mails_per_pair = parse(settings.rate_limit_emails)
        self.mails_per_address = parse(settings.rate_limit_emails_per_address)
        self.mails_per_recipient = parse(settings.rate_limit_emails_per_recipient)
        self.service_key_failures = parse(settings.rate_limit_service_key_failures)

    @asynccontextmanager
    async def password_attempt(self, *, account: str, address: str) -> AsyncIterator[None]:
        """Reserve one password guess for `account` from `address` before hashing it.

        The reservation is the count: a guess that fails (the block raises) keeps it, so
        parallel guesses can't outrun the limit. A correct password clears the account's
        count from this address, so a user's own sign-ins never lock them out; that lets
        nobody else guess more, because only someone who knows the password can clear it.
        """
        address = address_key(address)
        await self.hit(self.per_address, "address", address)
        await self.hit(self.login_failures, "login", account, address)
        yield
        if self.enabled:
            await self._ask(
                lambda: self._limiter.clear(self.login_failures, "login", account, address)
            )

    async def registration(self, *, email: str, address: str) -> None:
        """Count a registration from `address`, and the confirmation mail it sends to `email`."""
        address = address_key(address)
        await self.hit(self.per_address, "address", address)
        await self.hit(self.registrations, "register", address)
        await self.mail(recipient=email, address=address)

    async def mail(self, *, recipient: str, address: str) -> None:
        """Count a mail that a request from `address` makes us send to `recipient`.

        Keyed on the pair first, so a stranger uses up only their own allowance for a
        recipient, never the owner's; then per address (one client can't mail many
        people) and per recipient (a generous cap against floods from many addresses).
        Counted whether or not a mail is really sent, so a 429 reveals no account.
        """
        address = address_key(address)
        await self.hit(self.mails_per_pair, "mail", recipient, address)
        await self.hit(self.mails_per_address, "mail-from", address)
        await self.hit(self.mails_per_recipient, "mail-to", recipient)

    async def service_key_failure(self, *, address: str) -> None:
        """Count a request with a missing or wrong service key from `address`. Keys are
        256 random bits, so this is no defence of the keys: it caps how much lookup work
        (and log noise) a misconfigured or hostile client makes."""
        await self.hit(self.service_key_failures, "service-key", address_key(address))

    async def hit(self, limit: RateLimitItem, *keys: str) -> None:
        """Count one attempt; raise TooManyRequests if that goes over the limit."""
        if self.enabled and await self._ask(lambda: self._limiter.hit(limit, *keys)) is False:
            raise TooManyRequests(await self._retry_after(limit, *keys))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def _ask(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """The store's answer, or None (allow) while it is unavailable."""
        if self.health.paused():
            self.health.failed(None)
            return None
        try:
            answer = await call()
        except Exception as exc:  # any store error: fail open (see the module docstring)
            self.health.failed(exc)
            return None
        self.health.answered()
        return answer

    async def _retry_after(self, limit: RateLimitItem, *keys: str) -> int:
        stats = await self._ask(lambda: self._limiter.get_window_stats(limit, *keys))
        if stats is None:
            return limit.get_expiry()
        return max(1, math.ceil(stats.reset_time - time.time()))
