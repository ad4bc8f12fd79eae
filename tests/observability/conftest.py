"""Captured log lines (as the JSON the app writes) and scraped metric values."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.core.logging import configure_logging
from app.main import create_app
from tests.conftest import running


class CapturedLogs:
    """The process's stdout during a test, where every log line goes."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.captured = ""

    def text(self) -> str:
        self.captured += self.capsys.readouterr().out
        return self.captured

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


@pytest.fixture(scope="session")
def json_settings(settings: Settings) -> Settings:
    """The suite's settings, logging JSON as in production."""
    return settings.model_copy(update={"log_format": "json"})


@pytest.fixture(scope="session")
async def json_client(
    json_settings: Settings, db_engine: AsyncEngine
) -> AsyncIterator[AsyncClient]:
    """A client of an app that logs JSON (the suite's shared app logs for a console)."""
    async with running(create_app(json_settings)) as client:
        yield client


@pytest.fixture
def client(json_client: AsyncClient) -> AsyncClient:
    """Here `client` (and the fixtures built on it) is the JSON-logging app's."""
    return json_client


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str], json_settings: Settings) -> CapturedLogs:
    """What is logged during the test, as JSON lines. Other tests' apps may have set the
    stdlib's handler to the console format, so it is set back to JSON first."""
    configure_logging(json_settings)
    capsys.readouterr()
    return CapturedLogs(capsys)


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
