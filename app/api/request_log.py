"""Request ids, one access log line and one latency observation per request.

Pure ASGI (no BaseHTTPMiddleware task per request): the work per request is a clock read,
a histogram observation and one log line.
"""

import re
import time
import uuid

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import FilteringBoundLogger

from app.core.log_context import signed_in
from app.core.metrics import REQUEST_LATENCY

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept when it is this plain (a UUID is): it goes into every log line.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Any other method or an unknown path is one label value each, so a scanner can't make
# the metrics grow without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
UNMATCHED_ROUTE = "unmatched"


def is_well_formed_request_id(value: str) -> bool:
    return WELL_FORMED_REQUEST_ID.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def with_request_ids(app: ASGIApp) -> ASGIApp:
    """`app` taking the caller's X-Request-ID when well-formed, else making one, and
    answering with it (error answers of the middleware inside included)."""
    return CorrelationIdMiddleware(
        app,
        header_name=REQUEST_ID_HEADER,
        update_request_header=False,  # nothing inside reads it; saves a header rewrite
        generator=new_request_id,
        validator=is_well_formed_request_id,
    )


class RequestLog:
    """Logs `request` with method, route template, status, duration_ms (request_id,
    user_id and session_id come from app/core/log_context.py) and observes the latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Bound once, as the app starts (after create_app configured logging), not per request.
        self.logger: FilteringBoundLogger = structlog.get_logger().bind(logger="app.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering
        signed_in.set(None)

        async def send_watching_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_watching_status)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in KNOWN_METHODS else OTHER_METHOD
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            REQUEST_LATENCY.labels(method, template, str(status)).observe(seconds)
            self.logger.info(
                "request",
                method=method,
                path=template,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )
