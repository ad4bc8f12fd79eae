"""The limits store failing: requests go through, the log stays quiet, recovery is seen.

Driven against a real redis-server of the test's own, stopped or frozen (SIGSTOP: it still
accepts connections but never answers).
"""

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.rate_limits import StoreHealth, Throttle, address_key
from tests.conftest import PASSWORD, make_settings, register
from tests.redis_server import RedisServer, redis_server

__all__ = ["redis_server"]  # the fixture, imported for this module's tests

LOGGER = "app.core.rate_limits"
LOGIN = "/v1/users/login"


def throttle_for(server: RedisServer, **limits: object) -> Throttle:
    settings = make_settings(
        "postgresql+asyncpg://unused/unused",
        rate_limits_enabled=True,
        rate_limit_storage_url=server.url,
        **limits,
    )
    return Throttle(settings)


def store_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


@pytest.mark.parametrize("value", ["10 per fortnight", "ten/minute", ""])
def test_a_malformed_limit_setting_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a rate limit"):
        make_settings("postgresql+asyncpg://unused/unused", rate_limit_emails=value)


def test_ipv6_clients_are_counted_per_64_network() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("unknown") == "unknown"


async def test_a_stopped_store_lets_requests_through_and_logs_once_then_once_on_recovery(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    throttle = throttle_for(redis_server, rate_limit_login_failures="2/minute")
    try:
        redis_server.stop()
        for _ in range(20):  # ten times the limit, all let through
            async with throttle.password_attempt(account="ann@example.com", address="192.0.2.1"):
                pass
        while_down = store_records(caplog)

        redis_server.start()
        await asyncio.sleep(throttle.health.pause_seconds + 0.1)
        async with throttle.password_attempt(account="ann@example.com", address="192.0.2.1"):
            pass
        after = store_records(caplog)[len(while_down) :]
    finally:
        await throttle.close()

    assert len(while_down) == 1
    assert "unavailable" in while_down[0].getMessage()
    assert while_down[0].exc_info is None  # a line, not a traceback
    assert len(after) == 1
    back = re.search(r"back after .* (\d+) limit checks were skipped", after[0].getMessage())
    assert back is not None, after[0].getMessage()
    assert int(back.group(1)) >= 20


def test_a_long_outage_is_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    health = StoreHealth()
    health.log_interval_seconds = 0.2
    error = ConnectionError("Connection refused")
    for _ in range(5):
        health.failed(error)
    time.sleep(0.25)
    health.failed(error)
    health.failed(error)

    messages = [record.getMessage() for record in store_records(caplog)]
    assert len(messages) == 2, messages
    assert re.search(r"still unavailable .*: 5 limit checks skipped", messages[1]), messages


async def test_a_muted_store_costs_a_request_at_most_its_timeout_and_limits_resume_after(
    redis_server: RedisServer, client_for: Callable[..., Any]
) -> None:
    timeout = 0.25
    async with client_for(
        rate_limits_enabled=True,
        rate_limit_storage_url=redis_server.url,
        rate_limit_storage_timeout_seconds=timeout,
        rate_limit_login_failures="2/minute",
    ) as client:
        await register(client, "ann@example.com")
        right = {"email": "ann@example.com", "password": PASSWORD}
        wrong = {"email": "ann@example.com", "password": "wrong password"}
        redis_server.mute()
        try:
            durations, statuses = [], []
            for _ in range(6):
                started = time.perf_counter()
                statuses.append((await client.post(LOGIN, json=right)).status_code)
                durations.append(time.perf_counter() - started)
                await asyncio.sleep(0.3)  # past the pause, so some requests ask the store again
        finally:
            redis_server.unmute()
        await asyncio.sleep(1.2)  # the pause after the last failure ends
        after = [(await client.post(LOGIN, json=wrong)).status_code for _ in range(3)]

    assert statuses == [200] * 6
    # Each store call costs at most the timeout (the old client waited 1 s, several times
    # per login); the bound is generous for a loaded machine.
    assert max(durations) < 4 * timeout, durations
    assert after == [400, 400, 429]
