"""A TCP proxy for fault tests: put it between the app and PostgreSQL, then break the link.

Modes, switchable while connections are open:
- `PASS`: forward both ways;
- `DROP`: close every open connection, and each new one as soon as it is accepted;
- `REFUSE`: stop listening (new connections are refused; open ones carry on);
- `BLACKHOLE`: accept and read, never answer (a database that hangs or a lost network);
- `LATENCY`: forward, but hold every chunk for `latency` seconds first (a slow database).

Leaving `BLACKHOLE` resets the connections that lost data, as the peer would in the end.
"""

import asyncio
import contextlib
from collections.abc import Callable
from enum import StrEnum

CHUNK = 64 * 1024


class Mode(StrEnum):
    PASS = "pass"
    DROP = "drop"
    REFUSE = "refuse"
    BLACKHOLE = "blackhole"
    LATENCY = "latency"


class _Link:
    """One client connection and its upstream twin."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.lost_data = False
        self.tasks: list[asyncio.Task[None]] = []

    def close(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.close()
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = Mode.PASS
        self.latency = 0.0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    async def start(self) -> int:
        """Listen on a free 127.0.0.1 port (the same one again after REFUSE)."""
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def set_mode(self, mode: Mode, *, latency: float = 0.0) -> None:
        previous, self.mode, self.latency = self.mode, mode, latency
        if mode is Mode.DROP:
            self._close_links(lambda _: True)
        if previous is Mode.BLACKHOLE and mode is not Mode.BLACKHOLE:
            self._close_links(lambda link: link.lost_data or link.upstream is None)
        if mode is Mode.REFUSE and self._server is not None:
            await self._stop_listening()
        elif mode is not Mode.REFUSE and self._server is None:
            await self.start()

    async def close(self) -> None:
        self._close_links(lambda _: True)
        if self._server is not None:
            await self._stop_listening()

    async def _stop_listening(self) -> None:
        assert self._server is not None
        self._server.close()
        self._server = None

    def _close_links(self, which: Callable[[_Link], bool]) -> None:
        for link in [link for link in self._links if which(link)]:
            link.close()
            self._links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(writer)
        self._links.add(link)
        if self.mode is Mode.DROP:
            link.close()
            return
        if self.mode is Mode.BLACKHOLE:
            link.lost_data = True
            await self._swallow(reader)
            return
        try:
            up_reader, link.upstream = await asyncio.open_connection(*self.target)
        except OSError:
            link.close()
            return
        link.tasks = [
            asyncio.create_task(self._pipe(reader, link.upstream, link)),
            asyncio.create_task(self._pipe(up_reader, writer, link)),
        ]

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while await reader.read(CHUNK):
                pass

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link
    ) -> None:
        try:
            while data := await reader.read(CHUNK):
                if self.mode is Mode.BLACKHOLE:
                    link.lost_data = True
                    continue
                if self.mode is Mode.LATENCY:
                    await asyncio.sleep(self.latency)
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            link.close()
            self._links.discard(link)
