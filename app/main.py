"""Builds the application: settings, logging, middleware, routers, frontend, errors, lifespan."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import health, metrics, well_known
from app.api.error_handlers import install_error_handlers
from app.api.middleware import BodySizeLimit, HeaderLimits, JsonCors, SecurityHeaders
from app.api.openapi import install_openapi
from app.api.request_log import RequestLog, with_request_ids
from app.api.v1.audit import routes as audit_routes
from app.api.v1.oauth import routes as oauth_routes
from app.api.v1.roles import routes as role_routes
from app.api.v1.service_keys import routes as service_key_routes
from app.api.v1.tokens import routes as token_routes
from app.api.v1.users import admin_routes, email_routes, routes, session_routes
from app.bootstrap import build_events, event_types, load_plugins, started
from app.core.config import Settings, get_settings
from app.core.garbage_collection import freeze_startup_objects
from app.core.logging import configure_logging
from app.core.metrics import watch_pool, worker_stopped
from app.core.tracing import install_tracing
from app.db.session import CloseRequestSession
from app.plugins import loader as plugin_loader
from app.services.maintenance import purge_periodically
from app.web.docs import install_docs
from app.web.frontend import mount_frontend

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with started(settings, events) as context, plugin_loader.running(plugins, context):
            app.state.context = context
            watch_pool(context.engine)
            freeze_startup_objects()  # after everything that lives as long as the process
            purge = asyncio.create_task(purge_periodically(context.sessionmaker, settings))
            loops = [purge]
            if context.signing_keys is not None:  # see a rotation made by another instance
                ring = context.tokens.ring
                loops.append(asyncio.create_task(context.signing_keys.keep_current(ring)))
            try:
                yield
            finally:
                # uvicorn has drained the requests (--timeout-graceful-shutdown); a purge
                # round is only housekeeping that the next start repeats, so it stops now,
                # and a round stuck on a database that stopped answering can't hold it up.
                for loop in loops:
                    loop.cancel()
                try:
                    async with asyncio.timeout(settings.shutdown_timeout_seconds):
                        await asyncio.gather(*loops, return_exceptions=True)
                except TimeoutError:
                    logger.warning("Shutdown: gave up waiting for the purge round")
        worker_stopped()

    app = FastAPI(
        title="Auth service",
        summary="Register, log in and manage accounts.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,  # install_docs: served from this process, under the strict CSP
        openapi_url=None if settings.is_production else "/openapi.json",
        redoc_url=None,
        # Tracing is ours to set up (app/core/tracing.py scrubs secrets from spans): FastAPI
        # must not build an exporter of its own when FASTAPI_OTEL_AUTO_CONFIGURE is set.
        telemetry={"auto_configure": False},
        # Starlette would answer a path with a stray slash with a 307 to an absolute URL
        # built from the Host header and the socket's scheme: another host, or http
        # behind a TLS proxy, and clients re-send a POST body (a password) there.
        redirect_slashes=False,
    )
    plugins = load_plugins(settings)
    events = build_events(settings, plugins)
    install_error_handlers(app)
    install_openapi(app)
    # First: the router of GET /v1/users/me, the hot path, is tried before any other.
    app.include_router(routes.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(well_known.router)
    app.include_router(session_routes.router)
    app.include_router(email_routes.router)
    # Before admin_routes, whose /v1/users/{user_id} would otherwise catch /v1/users/me/events.
    app.include_router(audit_routes.me_router)
    app.include_router(admin_routes.router)
    app.include_router(audit_routes.search_router(event_types(plugins)))
    app.include_router(service_key_routes.router)
    app.include_router(token_routes.router)
    app.include_router(oauth_routes.router)
    app.include_router(role_routes.router)
    plugin_loader.install(app, plugins)
    if app.openapi_url is not None:  # not in production
        install_docs(app, openapi_url=app.openapi_url)
    mount_frontend(app)

    # Innermost: it sees the very scope the routes do, and closes their session after them.
    app.add_middleware(CloseRequestSession)
    if settings.cors_origins:
        app.add_middleware(
            JsonCors,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        HeaderLimits, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count
    )
    # Outside the caps, so every response gets the headers, the caps' 413 and 431 included.
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    # Here, inside the request-id middleware: each request's span names its request id.
    install_tracing(app, settings)
    # Outermost but for the proxy headers: every answer is logged and carries the request id.
    app.add_middleware(RequestLog)
    app.add_middleware(with_request_ids)
    if settings.trusted_proxies:
        # Here rather than in uvicorn's flags, so every way of serving the app agrees on
        # who the client is. uvicorn's middleware takes the right-most X-Forwarded-For
        # entry that is not a trusted proxy; app/api/client.py checks it is an address.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app


app = create_app()
