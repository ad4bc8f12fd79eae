"""The tracing pipeline behind OTEL_ENABLED; only app/core/tracing.py imports it, and only
when tracing is on (importing it loads the SDK).

Requests: FastAPI's built-in tracing makes the server span ("GET /v1/users/me": the route
template, the status, an error status for a 5xx) and its children (dependencies,
endpoint, serialization) as soon as a tracer provider is set, so no ASGI instrumentation
is added; `RequestIdOnSpan` names the request id on it. Queries: the SQLAlchemy
instrumentation, engine by engine. Export: the SDK's batch processor and its OTLP/HTTP
exporter, both configured by the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_BSP_*), read by the SDK itself.

One provider per process, made when the app is built: uvicorn starts each worker as a new
process that builds its own; under a server that forks after building the app, the batch
processor restarts its export thread in the child (the SDK registers that at fork).
"""

import re
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qsl, quote

from asgi_correlation_id import correlation_id
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqlalchemy_version
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, format_span_id, format_trace_id
from opentelemetry.util.types import Attributes, AttributeValue
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send
from structlog.typing import EventDict, WrappedLogger

from app.core.log_context import REDACTED, SECRET_KEY_PARTS, mask_email

DEFAULT_SERVICE_NAME = "auth-service"
REQUEST_ID_ATTRIBUTE = "request.id"
SQLALCHEMY_SCOPE = "opentelemetry.instrumentation.sqlalchemy"
DRIVER_SCOPE = "app.db.driver"
MAIL_SCOPE = "app.mail"
# FastAPI records the query string with its values (a search's email fragment): these
# keep the parameter names only; a URL loses its query string.
QUERY_ATTRIBUTES = frozenset({"url.query", "http.query"})
URL_ATTRIBUTES = frozenset({"url.full", "http.url", "http.target"})
# What an exception event keeps: its type. Messages quote values (a unique violation
# quotes the email, a refused recipient its address).
EXCEPTION_KEPT = frozenset({"exception.type", "exception.escaped"})
SQL_VERB = re.compile(r"\s*(\w+)")  # a query span's name, as SQLAlchemy's are named
EMAIL_ADDRESS = re.compile(r"[^\s@/?&=;:'\"<>(),]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_provider: TracerProvider | None = None


def start(exporter: SpanExporter | None = None) -> TracerProvider:
    """This process's tracer provider, made and set globally on the first call: spans go
    to `exporter` (the tests' in-memory one) or else by OTLP/HTTP."""
    global _provider
    if _provider is None:
        provider = TracerProvider(resource=_resource())
        processor = BatchSpanProcessor(exporter or OTLPSpanExporter())
        provider.add_span_processor(Scrubbing(processor))
        trace.set_tracer_provider(provider)
        _provider = provider
    return _provider


def _resource() -> Resource:
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; ours is only
    # the default for "unknown_service", which no backend can tell apart.
    resource = Resource.create()
    name = str(resource.attributes.get(SERVICE_NAME, ""))
    if not name or name.startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return resource


class RequestIdOnSpan:
    """Puts the request id (app/api/request_log.py) on the request's server span, so a
    log line leads to its trace and back. Sits inside the request-id middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = correlation_id.get()
        if request_id is not None:
            trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        await self.app(scope, receive, send)


def trace_queries(engine: AsyncEngine) -> None:
    # Engine by engine rather than SQLAlchemyInstrumentor().instrument(): that one wraps
    # create_engine (which app/db/engine.py imported before) and traces one engine per
    # process, while the tests build many.
    meter = metrics.get_meter(SQLALCHEMY_SCOPE, sqlalchemy_version)
    usage = meter.create_up_down_counter("db.client.connections.usage", unit="connections")
    tracer = trace.get_tracer(SQLALCHEMY_SCOPE, sqlalchemy_version)
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine, "connect", _log_driver_queries)


def _log_driver_queries(dbapi_connection: Any, _: object) -> None:
    # SQLAlchemy's events see the statements it runs itself; not those sent on the asyncpg
    # connection directly (the token check's read, app/db/session.py) nor the BEGIN and
    # COMMIT of its transactions. asyncpg reports those to its query loggers.
    dbapi_connection.driver_connection.add_query_logger(_driver_query_span)


def _driver_query_span(query: Any) -> None:
    """A span for one statement asyncpg ran (a `LoggedQuery`: never its `args`)."""
    if not isinstance(query.args, tuple):
        return  # executemany: SQLAlchemy's own, which its events already traced
    # Called soon after the statement ended, in a copy of its context: its parent is the
    # span that ran it.
    ended = time.time_ns()
    verb = SQL_VERB.match(query.query)
    span = trace.get_tracer(DRIVER_SCOPE).start_span(
        verb.group(1).upper() if verb else "postgresql",
        kind=SpanKind.CLIENT,
        start_time=ended - int(query.elapsed * 1e9),
        attributes={"db.system": "postgresql", "db.statement": query.query},
    )
    if query.exception is not None:
        span.set_attribute("error.type", type(query.exception).__qualname__)
        span.set_status(StatusCode.ERROR)
    span.end(end_time=ended)


def client_span(name: str, attributes: Mapping[str, str | int]) -> AbstractContextManager[object]:
    return trace.get_tracer(MAIL_SCOPE).start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=dict(attributes)
    )


def add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the ids of the current trace and span, as backends show them."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format_trace_id(context.trace_id))
        event_dict.setdefault("span_id", format_span_id(context.span_id))
    return event_dict


class Scrubbing(SpanProcessor):
    """Hands `processor` each finished span without what must never leave the process:
    query parameter values, secrets by attribute name, email addresses, error messages.
    Here rather than in each instrumentation's options, so a span from any of them (or
    a plugin's) passes the same filter."""

    def __init__(self, processor: SpanProcessor) -> None:
        self.processor = processor

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.processor.on_end(scrubbed(span))

    def shutdown(self) -> None:
        self.processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.processor.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_clean(span.attributes),
        events=[_clean_event(event) for event in span.events],
        links=span.links,
        kind=span.kind,
        # The code only: a description is an error message, which may quote values.
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _clean_event(event: Event) -> Event:
    attributes = event.attributes or {}
    if event.name == "exception":
        attributes = {key: value for key, value in attributes.items() if key in EXCEPTION_KEPT}
    return Event(event.name, _clean(attributes), event.timestamp)


def _clean(attributes: Attributes) -> dict[str, AttributeValue]:
    return {key: _clean_value(key, value) for key, value in (attributes or {}).items()}


def _clean_value(key: str, value: AttributeValue) -> AttributeValue:
    if not isinstance(value, str):
        return value
    if key in QUERY_ATTRIBUTES:
        return _parameter_names(value)
    if key in URL_ATTRIBUTES:
        value = value.partition("?")[0]
    name = key.lower()
    if any(part in name for part in SECRET_KEY_PARTS):
        return REDACTED
    return EMAIL_ADDRESS.sub(lambda match: mask_email(match.group()), value)


def _parameter_names(query: str) -> str:
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return "&".join(f"{quote(name)}={REDACTED}" for name in names)


def forget() -> None:
    """Shut this process's provider down and let `start` make a new one (tests)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None
