"""The HTTP protocol the web process serves with (`--http app.protocol:HTTPProtocol`).

uvicorn's httptools protocol (its fast C parser, about 0.4 ms less CPU per request than
the pure-Python h11 one), with the limits a public server needs and uvicorn lacks:

- a request's line and headers may take at most MAX_HEADER_BYTES: past that the answer
  is a 431 and the connection closes (httptools would otherwise buffer a header of any
  size);
- a connection gets HEADER_TIMEOUT_SECONDS to deliver a request's headers, counted from
  when it opened or its previous response ended. uvicorn disarms its keep-alive timer at
  the first byte, so a client sending one byte now and then (slowloris) or nothing at all
  would keep a connection, and its memory, forever.

The header count cap, and the byte cap again for requests that arrive whole, are in
app/api/middleware.py HeaderLimits, so they hold under any server (and those answers
carry the request id and reach the request log).
"""

import asyncio
import json
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from app.api.middleware import security_headers
from app.core.config import get_settings
from app.core.errors import AppError, MalformedRequest, RequestHeadersTooLarge


class HeadersTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head that is over the cap."""


class HTTPProtocol(HttpToolsProtocol):
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
        self.security_headers = [
            (name.encode(), value.encode())
            for name, value in security_headers(hsts=settings.is_production).items()
        ]
        self.header_deadline: asyncio.TimerHandle | None = None
        # The head being read: its bytes so far, from the data the parser was fed.
        self.reading_head = False
        self.head_began = False
        self.head_bytes = 0
        self.parsed_header_bytes = 0
        self.head_too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        self.head_began = False
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        # httptools calls back only once a header is complete, so a head still unfinished
        # is measured by the data fed since it began. The chunk it began in counts whole:
        # at most one read's worth of a previous request too, which errs on the safe side.
        self.head_bytes = len(data) if self.head_began else self.head_bytes + len(data)
        if self.head_bytes > self.max_header_bytes:
            self._send_error(RequestHeadersTooLarge())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = self.head_began = True
        self.head_bytes = self.parsed_header_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        # A head that arrives in one read is parsed in one go: stop it at the cap too.
        self.parsed_header_bytes += len(name) + len(value) + 4  # "name: value\r\n"
        if self.parsed_header_bytes > self.max_header_bytes:
            self.head_too_large = True
            raise HeadersTooLarge
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._stop_waiting()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Unless the response ended the connection or a pipelined request already began.
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for every request httptools refuses, HeadersTooLarge included.
        self._send_error(RequestHeadersTooLarge() if self.head_too_large else MalformedRequest())

    def _send_error(self, error: AppError) -> None:
        body = json.dumps({"code": error.code, "message": error.message}).encode()
        status = error.status_code
        headers = [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
            (b"Connection", b"close"),
            (b"Date", formatdate(usegmt=True).encode()),
            *self.security_headers,
        ]
        head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        self.transport.write(b"".join(head) + b"\r\n" + body)
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
