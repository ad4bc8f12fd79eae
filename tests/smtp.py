"""A real SMTP server for tests: aiosmtpd on a free 127.0.0.1 port that keeps what it gets."""

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.live_server import free_port


class Inbox:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def wait_for(self, count: int) -> list[Message]:
        for _ in range(100):  # mail goes out after the response: give it up to 5 s
            if len(self.messages) >= count:
                return self.messages
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def link_token(self, message: Message, path: str) -> str:
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        found = re.search(rf"{path}#token=(\S+)", body.decode())
        assert found, body
        return found.group(1)


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """An Inbox listening on a free port, and that port, until the block ends."""
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
