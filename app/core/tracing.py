"""Optional OpenTelemetry tracing, behind OTEL_ENABLED (off by default).

Off, these functions return at once: nothing here imports OpenTelemetry's SDK, an
instrumentation or an exporter, wraps a function or adds a middleware (FastAPI itself
imports the OpenTelemetry API, and its built-in tracing stays idle while no tracer
provider is set). On, app/core/otel.py, imported only then, builds the pipeline.
"""

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.typing import Processor

from app.core.config import Settings


def install_tracing(app: FastAPI, settings: Settings) -> None:
    """Trace this process's requests (FastAPI's own server spans, named after the route
    template) with the request id on each; export them by OTLP/HTTP."""
    if not settings.otel_enabled:
        return
    from app.core import otel

    otel.start()
    app.add_middleware(otel.RequestIdOnSpan)


def trace_queries(engine: AsyncEngine, settings: Settings) -> None:
    """A span for every statement `engine` runs (the SQL with its placeholders, never
    the values)."""
    if not settings.otel_enabled:
        return
    from app.core import otel

    otel.trace_queries(engine)


def client_span(
    settings: Settings, name: str, attributes: Mapping[str, str | int]
) -> AbstractContextManager[object]:
    """A span around a call to another service (the mail server), or nothing when off."""
    if not settings.otel_enabled:
        return nullcontext()
    from app.core import otel

    return otel.client_span(name, attributes)


def log_processors(settings: Settings) -> list[Processor]:
    """The structlog processors that put the trace and span ids on each log line."""
    if not settings.otel_enabled:
        return []
    from app.core import otel

    return [otel.add_trace_ids]
