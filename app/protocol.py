"""The HTTP protocol the web process serves with (`--http app.protocol:HTTPProtocol`).

uvicorn's h11 protocol, with the limits a public server needs and uvicorn lacks:

- a request's line and headers may take at most MAX_HEADER_BYTES: h11 stops buffering
  there, and the answer is a 431 (uvicorn's default httptools parser has no such cap);
- a connection gets HEADER_TIMEOUT_SECONDS to deliver a request's headers, counted from
  when it opened or its previous response ended. uvicorn disarms its keep-alive timer at
  the first byte, so a client sending one byte now and then (slowloris) or nothing at all
  would keep a connection, and its memory, forever.

The header count cap, and the byte cap again for requests that arrive whole, are in
app/api/middleware.py HeaderLimits, so they hold under any server.
"""

import asyncio
import json
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from app.api.middleware import security_headers
from app.core.config import get_settings
from app.core.errors import AppError, MalformedRequest, RequestHeadersTooLarge


class HTTPProtocol(H11Protocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.max_header_bytes = settings.max_header_bytes
        self.header_timeout = settings.header_timeout_seconds
        # The app's headers (app/main.py): these answers never pass its middleware.
        self.security_headers = security_headers(hsts=settings.is_production)
        self.conn = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_header_bytes)
        self.header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        scope = self.scope
        super().data_received(data)
        if self.scope is not scope:  # h11 parsed a request's headers: a new request began
            self._stop_waiting()

    def on_response_complete(self) -> None:
        scope = self.scope
        super().on_response_complete()
        # Unless the response ended the connection or a pipelined request already began.
        if self.scope is scope and not self.transport.is_closing():
            self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for every request h11 refuses; h11 keeps what it buffered.
        buffered, _ = self.conn.trailing_data
        too_large = len(buffered) > self.max_header_bytes
        self._send_error(RequestHeadersTooLarge() if too_large else MalformedRequest())

    def _send_error(self, error: AppError) -> None:
        body = json.dumps({"code": error.code, "message": error.message}).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
            ("Date", formatdate(usegmt=True)),
            *self.security_headers.items(),
        ]
        response = h11.Response(
            status_code=error.status_code,
            headers=headers,
            reason=HTTPStatus(error.status_code).phrase,
        )
        for event in (response, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _await_headers(self) -> None:
        self._stop_waiting()
        self.header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _stop_waiting(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _headers_late(self) -> None:
        self.header_deadline = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()
