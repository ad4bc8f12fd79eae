"""Prometheus metrics (prometheus-client), defined once; `GET /metrics` serves them.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory the
workers share (`python -m app.server` makes one when it is unset): every worker then writes
its values to files there, and a scrape, whichever worker answers it, adds them all up.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import TooManyRequests

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# From a cached /me (~1 ms) to a login that waited for the hasher (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
LOGINS = Counter("auth_logins", "Password logins, by outcome.", ["outcome"])
LOGIN_OUTCOMES = ("success", "bad_credentials", "inactive", "rate_limited")
HASH_QUEUE_WAIT = Histogram(
    "auth_password_hash_queue_wait_seconds",
    "Time a password hash waited for a hashing thread.",
    buckets=LATENCY_BUCKETS,
)
REFRESH_REUSE = Counter(
    "auth_refresh_token_reuse_detections", "Rotated refresh tokens presented again."
)
RATE_LIMIT_STORE_ERRORS = Counter(
    "auth_rate_limit_store_errors",
    "Rate-limit checks skipped because the store failed or was paused after a failure.",
)
DB_POOL_IN_USE = Gauge(
    "auth_db_pool_connections_in_use",
    "Database connections checked out of the request pool.",
    multiprocess_mode="livesum",  # the workers' pools added up, dead workers left out
)
for _outcome in LOGIN_OUTCOMES:  # every outcome shows, at 0, from the start
    LOGINS.labels(_outcome)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_DIR_VARIABLE))


def watch_pool(engine: AsyncEngine) -> None:
    """Keep DB_POOL_IN_USE in step with `engine`'s pool. Counted on checkout and checkin
    rather than read at scrape time, so the worker answering a scrape also reports the
    connections of the others (multiprocess mode)."""
    pool = engine.sync_engine.pool

    def checked_out(*_: Any) -> None:
        DB_POOL_IN_USE.inc()

    def checked_in(*_: Any) -> None:
        DB_POOL_IN_USE.dec()

    event.listen(pool, "checkout", checked_out)
    event.listen(pool, "checkin", checked_in)


def worker_stopped() -> None:
    """Drop this process's live gauges, so a stopped worker's pool no longer counts."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@asynccontextmanager
async def counting_rate_limited_logins() -> AsyncIterator[None]:
    """Count a login the rate limiter refused (the other outcomes are counted where the
    credentials are checked, app/services/users.py)."""
    try:
        yield
    except TooManyRequests:
        LOGINS.labels("rate_limited").inc()
        raise
