"""One place that turns every error into `{"code", "message"}` JSON."""

import asyncio
import logging
from http import HTTPStatus
from typing import Any, cast

from asyncpg.exceptions import PostgresError  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, ErrorCode

logger = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.TOO_MANY_REQUESTS,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
_UNREADABLE_BODY = "The body could not be read: send UTF-8 JSON or a well-formed form."
_MESSAGES = {
    ErrorCode.UNAUTHORIZED: "Sign in to continue: the access token is missing, invalid or expired.",
    ErrorCode.FORBIDDEN: "You don't have permission to do this.",
    ErrorCode.REQUEST_TOO_LARGE: "The request body is too large.",
    ErrorCode.TOO_MANY_REQUESTS: "Too many attempts. Wait a moment and try again.",
}


def error_response(
    status_code: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code, headers=headers)


async def handle_app_error(_: Request, exc: Exception) -> JSONResponse:
    error = cast(AppError, exc)
    return error_response(
        error.status_code, error.code, error.message, error.headers, **error.extra
    )


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    error = cast(HTTPException, exc)
    if error.status_code == 400:
        # Our own 400s are AppErrors; an HTTPException 400 is the framework failing to read
        # the body (not UTF-8, broken multipart): malformed input, so the one validation status.
        return _validation_response([{"field": "body", "message": _UNREADABLE_BODY}])
    code = _CODES_BY_STATUS.get(
        error.status_code,
        ErrorCode.VALIDATION_ERROR if error.status_code < 500 else ErrorCode.INTERNAL_ERROR,
    )
    message = _MESSAGES.get(code) or HTTPStatus(error.status_code).phrase + "."
    headers = dict(error.headers or {})
    if error.status_code == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    if error.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(error.status_code, code, message, headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path.

    Starlette's 405 names only the first route that matched the path, but FastAPI makes one
    route per method, so `/v1/users/me` would claim to allow GET alone.
    """
    methods: set[str] = set()
    # Route contexts, not app.routes: included routers are not flattened into the latter.
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods.update(route.methods)
    return sorted(methods)


# pydantic's own words for these quote the regex, which tells a person nothing.
MESSAGES = {"string_pattern_mismatch": "Contains characters that are not allowed here."}


async def handle_validation_error(_: Request, exc: Exception) -> JSONResponse:
    # Never echo the input back: it may be a password.
    return _validation_response(
        [
            {
                "field": ".".join(str(part) for part in err["loc"] if part != "body") or "body",
                "message": MESSAGES.get(err["type"], _message_of(err)),
            }
            for err in cast(RequestValidationError, exc).errors()
        ]
    )


def _message_of(err: Any) -> str:
    """pydantic's message, without the "Value error, " it puts before our validators' own."""
    if err["type"] == "value_error" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])
    return str(err["msg"])


def _validation_response(field_errors: list[dict[str, str]]) -> JSONResponse:
    return error_response(
        422, ErrorCode.VALIDATION_ERROR, "Some fields are missing or invalid.", errors=field_errors
    )


# SQLSTATE classes of a database that can't serve anyone for now: connection exceptions,
# insufficient resources (no connection slot left, out of memory or disk) and operator
# intervention (starting up, shutting down, in recovery).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def database_unavailable(exc: Exception) -> bool:
    """True when `exc` (one of the errors below) says the database can't serve us for now,
    False for a failing statement (our bug)."""
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    ):
        return True
    if isinstance(exc, DBAPIError | PostgresError):
        # A refused connection comes from asyncpg as it is (SQLAlchemy wraps only errors
        # of an open connection, with the same `sqlstate`).
        state = getattr(exc.orig if isinstance(exc, DBAPIError) else exc, "sqlstate", None)
        return isinstance(state, str) and state[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    return True  # the pool's checkout timeout, a refused or dropped TCP connection


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    if not database_unavailable(exc):
        return await handle_unexpected(request, exc)  # a failing statement is our bug
    # The database is down, restarting, dropped the connection or has none to spare: a
    # temporary condition the client can retry, not a bug in the request.
    logger.error("Database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return _unavailable()


async def handle_timeout(request: Request, exc: Exception) -> JSONResponse:
    # asyncpg's connect and command timeouts raise the builtin TimeoutError: a dependency
    # that stopped answering, as retryable as one that is down.
    logger.error("Timed out on %s %s: %r", request.method, request.url.path, exc)
    return _unavailable()


def _unavailable() -> JSONResponse:
    return error_response(
        503,
        ErrorCode.SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable. Try again shortly.",
        {"Retry-After": "5"},
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, ErrorCode.INTERNAL_ERROR, "Something went wrong on our side.")


class UnexpectedErrors:
    """The last word on a request that ended in an exception no handler took, inside our
    middleware so the security headers and CORS apply to its answer:

    - any exception: the JSON 500 (Starlette gives an `Exception` handler to its
      ServerErrorMiddleware, which wraps every middleware added with `add_middleware`);
    - the cancellation uvicorn sends when its drain deadline (--timeout-graceful-shutdown)
      passes: a 503 with Retry-After, so the client retries elsewhere, instead of uvicorn's
      bare 500 and a traceback in the log.

    Installed before the other middleware, this is the innermost."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if started:
                raise
            # Not re-raised: this is the request's own task, and the server that cancelled
            # it never waits for it; the answer is all that is left to do.
            restarting = error_response(
                503,
                ErrorCode.SERVICE_UNAVAILABLE,
                "The service is restarting. Try again shortly.",
                {"Retry-After": "1", "Connection": "close"},
            )
            await restarting(scope, receive, send)
        except Exception as exc:
            if started:  # too late for a 500: the server ends the connection
                raise
            response = await handle_unexpected(Request(scope), exc)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Call before adding middleware: the catch-all must be the innermost one."""
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(DBAPIError, handle_database_error)
    app.add_exception_handler(PostgresError, handle_database_error)
    app.add_exception_handler(PoolTimeout, handle_database_error)
    app.add_exception_handler(ConnectionError, handle_database_error)
    app.add_exception_handler(TimeoutError, handle_timeout)
    app.add_middleware(UnexpectedErrors)
