"""ASGI middleware: request header and body caps, security headers on every response, and
a 503 for requests still running at the shutdown deadline."""

import json

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import AppError, CorsRequestRefused, RequestHeadersTooLarge, RequestTooLarge

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=63072000"


def security_headers(*, hsts: bool) -> dict[str, str]:
    """The headers every response carries, also those the server process writes itself
    (app/protocol.py), so no answer is an exception a browser could be tricked with.
    The API docs (app/web/docs.py) are no exception either: they run under this CSP."""
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if hsts:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class HeaderLimits:
    """Refuse requests with more than `max_count` headers or `max_bytes` of them with 431.

    The server process enforces the byte cap while it parses (app/protocol.py); this holds
    the count cap, and both under any server the app runs in."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_count: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) + 4 for name, value in headers)  # "n: v\r\n"
            if len(headers) > self.max_count or size > self.max_bytes:
                await send_error(send, RequestHeadersTooLarge())
                return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413 before anything parses or hashes them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await send_error(send, RequestTooLarge())
            return

        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:  # chunked bodies declare no length
                raise HTTPException(413)
            return message

        await self.app(scope, capped_receive, send)


async def send_error(send: Send, error: AppError) -> None:
    """Answer with `error` from a middleware, before the app (and its handlers) run."""
    body = json.dumps({"code": error.code, "message": error.message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class JsonCors(CORSMiddleware):
    """Starlette's CORS, with its refused preflight answered like every other error (JSON
    with a stable code) instead of a plain-text "Disallowed CORS origin"."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        refused = CorsRequestRefused()
        return JSONResponse(
            {"code": refused.code, "message": refused.message}, status_code=refused.status_code
        )


OAUTH_PREFIX = "/v1/oauth/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # An answer to a signed-in request is that person's data: no cache, the browser's
        # included, may keep it (shared caches already skip them; a browser's disk does not).
        authenticated = any(name == b"authorization" for name, _ in scope["headers"])
        # RFC 6749 §5.1: no answer of the token endpoints may be kept, errors included
        # (and those of the layers around them: 405, 413).
        oauth = scope["path"].startswith(OAUTH_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(hsts=self.hsts).items():
                    headers.setdefault(name, value)
                if authenticated or oauth:
                    headers.setdefault("Cache-Control", "no-store")
                if oauth:
                    headers.setdefault("Pragma", "no-cache")
            await send(message)

        await self.app(scope, receive, send_with_headers)
