"""OTEL_ENABLED: request and query spans with the request id, trace ids in the log lines,
nothing secret in a span; and off, nothing of the tracing pipeline loaded at all.

In process, the pipeline is the real one (app/core/otel.py: provider, scrubbing, batch
processor) with the SDK's in-memory exporter in place of OTLP. The Procfile test exports
by OTLP/HTTP, from two workers, to a receiver in the test that decodes the protobuf."""

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from opentelemetry.util._once import Once
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.request_log import REQUEST_ID_HEADER
from app.core import otel
from app.core.config import PROJECT_ROOT, Settings
from app.core.logging import configure_logging
from app.core.otel import REQUEST_ID_ATTRIBUTE
from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, register, running
from tests.live_server import procfile_server, unique_email
from tests.observability.conftest import CapturedLogs
from tests.smtp import smtp_server

# What tracing loads; FastAPI itself imports the OpenTelemetry API (opentelemetry.trace,
# ...) whatever the setting, and redis-py imports the SDK's metrics module when it is
# installed, so those are not the test.
TRACING_MODULES = (
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
    "app.core.otel",
)


QUERY_SCOPES = {otel.SQLALCHEMY_SCOPE, otel.DRIVER_SCOPE}


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process's tracing pipeline, exporting to memory; set back to none afterwards,
    so the other tests' apps run untraced."""
    memory = InMemorySpanExporter()
    otel.start(memory)
    yield memory
    otel.forget()
    # The API sets a global provider once per process; tests only may undo it.
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None


@pytest.fixture(scope="module")
def traced_settings(json_settings: Settings) -> Settings:
    return json_settings.model_copy(update={"otel_enabled": True})


@pytest.fixture(scope="module")
async def traced(
    exporter: InMemorySpanExporter, traced_settings: Settings, db_engine: AsyncEngine
) -> AsyncIterator[AsyncClient]:
    async with running(create_app(traced_settings)) as client:
        yield client


async def cleared(exporter: InMemorySpanExporter) -> None:
    """Forget the spans so far, those still queued in the batch processor included."""
    await finished(exporter)
    exporter.clear()


async def finished(exporter: InMemorySpanExporter) -> Sequence[ReadableSpan]:
    # asyncpg hands each statement to its query loggers (app/core/otel.py) with call_soon:
    # a request's last ones may still be waiting for the loop's next turn.
    await asyncio.sleep(0)
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.force_flush()  # the batch processor exports from its own thread
    return exporter.get_finished_spans()


def server_span(spans: Sequence[ReadableSpan], request_id: str) -> ReadableSpan:
    matching = [
        span
        for span in spans
        if span.kind is SpanKind.SERVER
        and (span.attributes or {}).get(REQUEST_ID_ATTRIBUTE) == request_id
    ]
    assert len(matching) == 1, [(span.name, span.attributes) for span in spans]
    return matching[0]


def scope_of(span: ReadableSpan) -> str | None:
    return span.instrumentation_scope.name if span.instrumentation_scope else None


def descends_from(
    span: ReadableSpan, ancestor: ReadableSpan, spans: Sequence[ReadableSpan]
) -> bool:
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    parent = span.parent
    while parent is not None:
        if ancestor.context is not None and parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False


async def test_a_me_request_makes_a_server_span_named_by_route_with_query_spans_inside(
    traced: AsyncClient, exporter: InMemorySpanExporter
) -> None:
    await register(traced, "tia@example.com")
    token = await login(traced, "tia@example.com")
    await cleared(exporter)

    response = await traced.get("/v1/users/me", headers=bearer(token))

    assert response.status_code == 200
    spans = await finished(exporter)
    server = server_span(spans, response.headers[REQUEST_ID_HEADER])
    assert server.name == "GET /v1/users/me"
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/v1/users/me"
    assert server.attributes["http.response.status_code"] == 200
    queries = [span for span in spans if scope_of(span) in QUERY_SCOPES]
    assert queries, [span.name for span in spans]
    for query in queries:
        assert query.kind is SpanKind.CLIENT
        assert descends_from(query, server, spans)
        statement = str((query.attributes or {}).get("db.statement"))
        assert "$1" in statement or "SELECT" in statement.upper()


async def test_a_request_without_a_route_is_named_by_its_method_only(
    traced: AsyncClient, exporter: InMemorySpanExporter
) -> None:
    await cleared(exporter)

    response = await traced.get("/v1/no/such/thing?token=abc")

    assert response.status_code == 404
    server = server_span(await finished(exporter), response.headers[REQUEST_ID_HEADER])
    assert "/v1/no/such" not in server.name
    assert (server.attributes or {})["url.query"] == "token=[redacted]"


async def test_no_password_token_email_or_query_value_reaches_a_span(
    traced: AsyncClient, exporter: InMemorySpanExporter, superuser_token: str
) -> None:
    email = "secret.person@example.com"
    await cleared(exporter)
    await register(traced, email)
    login_response = await traced.post(
        "/v1/users/login", json={"email": email, "password": PASSWORD}
    )
    tokens = login_response.json()
    await traced.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    # Email in the query string, and a duplicate registration (a conflict the database
    # may report quoting the email).
    search = await traced.get(
        "/v1/users/", params={"email": "secret.person"}, headers=bearer(superuser_token)
    )
    assert search.status_code == 200 and search.json()["total"] == 1
    again = await traced.post("/v1/users/", json={"email": email, "password": PASSWORD})
    assert 400 <= again.status_code < 500
    bad_login = await traced.post("/v1/users/login", json={"email": email, "password": "nope"})
    assert 400 <= bad_login.status_code < 500

    spans = await finished(exporter)
    exported = json.dumps([json.loads(span.to_json()) for span in spans])
    secrets = [PASSWORD, email, "secret.person", tokens["access_token"], superuser_token]
    if "refresh_token" in tokens:
        secrets.append(tokens["refresh_token"])
    for secret in secrets:
        assert secret not in exported
    search_span = server_span(spans, search.headers[REQUEST_ID_HEADER])
    assert (search_span.attributes or {})["url.query"] == "email=[redacted]"
    # The control: the spans searched are there, statements included.
    assert any("db.statement" in (span.attributes or {}) for span in spans)


async def test_log_lines_carry_the_trace_and_span_of_their_request(
    traced: AsyncClient,
    exporter: InMemorySpanExporter,
    traced_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(traced_settings)
    logs = CapturedLogs(capsys)
    await cleared(exporter)

    response = await traced.get("/v1/users/me")

    assert response.status_code == 401
    request_id = response.headers[REQUEST_ID_HEADER]
    server = server_span(await finished(exporter), request_id)
    line = logs.access_line(request_id)
    assert server.context is not None
    assert line["trace_id"] == format_trace_id(server.context.trace_id)
    assert line["span_id"] == format_span_id(server.context.span_id)


async def test_a_mail_sent_is_a_client_span_of_its_request_naming_the_server_only(
    exporter: InMemorySpanExporter, traced_settings: Settings, db_engine: AsyncEngine
) -> None:
    email = "mail.me@example.com"
    with smtp_server() as (inbox, port):
        settings = traced_settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
        )
        async with running(create_app(settings)) as client:
            await cleared(exporter)
            response = await client.post("/v1/users/", json={"email": email, "password": PASSWORD})
            assert response.status_code == 201
            await inbox.wait_for(1)

    spans = await finished(exporter)
    server = server_span(spans, response.headers[REQUEST_ID_HEADER])
    [mail] = [span for span in spans if span.name == "smtp send"]
    assert mail.kind is SpanKind.CLIENT
    assert descends_from(mail, server, spans)
    assert mail.attributes == {"server.address": "127.0.0.1", "server.port": port}


# Run in a fresh interpreter: this one has imported everything by now.
PROBE = """
import json, sys
from app.main import app
from app.core.config import get_settings
from app.db.engine import create_engine
from opentelemetry import trace

create_engine(get_settings())
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.startswith(tuple(sys.argv[1:]))),
    "middleware": [getattr(m.cls, "__name__", "") for m in app.user_middleware],
    "provider": type(trace.get_tracer_provider()).__name__,
}))
"""


def probe(tmp_path: Any, **env: str) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    environment |= {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/probe.db", **env}
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE, *TRACING_MODULES],
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_off_nothing_of_tracing_is_imported_set_or_added(tmp_path: Any) -> None:
    off = probe(tmp_path)
    on = probe(tmp_path, OTEL_ENABLED="true")

    assert off["loaded"] == []
    assert "RequestIdOnSpan" not in off["middleware"]
    # No provider: FastAPI's built-in tracing stays idle.
    assert off["provider"] == "ProxyTracerProvider"
    # The same probe sees the pipeline when it is on.
    assert {"app.core.otel", "opentelemetry.sdk.trace"} <= set(on["loaded"])
    assert "RequestIdOnSpan" in on["middleware"]
    assert on["provider"] == "TracerProvider"


def test_on_without_the_tracing_packages_start_up_stops_and_names_them(tmp_path: Any) -> None:
    """requirements-otel.txt is an opt-in install: asking for tracing without it is a
    configuration error at start-up, not a crash on the first request."""
    # A fresh interpreter in which the SDK can't be found, as after requirements.txt alone.
    script = (
        "import importlib.abc, sys\n"
        "class NoSdk(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.startswith('opentelemetry.sdk'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, NoSdk())\n"
        "from app.core.config import Settings\n"
        "Settings(_env_file=None, secret_key='k' * 64, otel_enabled=True)\n"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "pip install -r requirements-otel.txt" in result.stderr


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP endpoint: keeps every trace export it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.bodies: list[bytes] = []
        self.requests: list[ExportTraceServiceRequest] = []

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """(resource attributes, span) for every span received."""
        found = []
        for request in list(self.requests):
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    found += [(resource, span) for span in scope_spans.spans]
        return found


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.server.bodies.append(body)
            self.server.requests.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()
        self.wfile.write(b"")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_two_workers_export_their_spans_by_otlp_http(
    migrated_database_url: str, receiver: Receiver
) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    with procfile_server(
        migrated_database_url,
        "tracing",
        WEB_CONCURRENCY="2",
        OTEL_ENABLED="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_SERVICE_NAME="auth-under-test",
        # A service.instance.id per process, to tell the workers apart.
        OTEL_EXPERIMENTAL_RESOURCE_DETECTORS="otel,service_instance",
        OTEL_BSP_SCHEDULE_DELAY="100",
    ) as server:
        email = unique_email("otlp")
        httpx.post(
            f"{server.url}/v1/users/", json={"email": email, "password": PASSWORD}
        ).raise_for_status()
        login_response = httpx.post(
            f"{server.url}/v1/users/login", json={"email": email, "password": PASSWORD}
        )
        token = login_response.json()["access_token"]
        request_ids: set[str] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            # A connection each: the kernel hands them to either worker.
            response = httpx.get(f"{server.url}/v1/users/me", headers=bearer(token))
            assert response.status_code == 200
            request_ids.add(response.headers[REQUEST_ID_HEADER])
            me_spans = [
                (resource, span)
                for resource, span in receiver.spans()
                if span.name == "GET /v1/users/me"
            ]
            workers = {resource["service.instance.id"] for resource, _ in me_spans}
            if len(workers) == 2:
                break
            time.sleep(0.05)
        assert len(workers) == 2, server.log()

    resource, span = me_spans[0]
    assert resource["service.name"] == "auth-under-test"
    assert span.kind == span.SPAN_KIND_SERVER
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes[REQUEST_ID_ATTRIBUTE].string_value in request_ids
    names = {span.name for _, span in receiver.spans()}
    assert any(name.startswith("SELECT") for name in names), names
    everything = b"".join(receiver.bodies)
    for secret in (PASSWORD, email, token):
        assert secret.encode() not in everything
