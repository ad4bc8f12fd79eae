"""Captured log lines (as the JSON the app writes) and scraped metric values."""

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import Settings
from app.core.logging import build_formatter


class CapturedLogs:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, parsed: a line that is not one JSON object fails the test here."""
        return [json.loads(line) for line in self.text().splitlines()]

    def access_line(self, request_id: str) -> dict[str, Any]:
        matching = [
            line
            for line in self.lines()
            if line.get("event") == "request" and line.get("request_id") == request_id
        ]
        assert len(matching) == 1, (request_id, self.text())
        return matching[0]


@pytest.fixture
def logs(settings: Settings) -> Iterator[CapturedLogs]:
    """What the app logs during the test, rendered by its JSON formatter."""
    captured = CapturedLogs()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(build_formatter(settings.model_copy(update={"log_format": "json"})))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[AsyncClient]:
    """A client of a running `app` whose requests come from `address`."""
    transport = ASGITransport(app=app, client=(address, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@asynccontextmanager
async def started(app: FastAPI) -> AsyncIterator[FastAPI]:
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


def metric_value(exposition: str, sample_name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when it isn't there yet)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == sample_name and all(
                sample.labels.get(key) == value for key, value in labels.items()
            ):
                return float(sample.value)
    return 0.0
