"""The Procfile's web process with two workers: JSON on stdout, one /metrics for both."""

import json
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from app.api.request_log import REQUEST_ID_HEADER
from tests.conftest import PASSWORD
from tests.live_server import ProcfileServer, procfile_server, unique_email
from tests.observability.conftest import metric_value

LOGINS = "auth_logins_total"
MAX_LOGINS = 60  # enough for the kernel to hand connections to both workers


@pytest.fixture(scope="module")
def metrics_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="obs-metrics-") as directory:
        # A previous run's leftovers: unreadable if they were still counted.
        (Path(directory) / "counter_999999.db").write_bytes(b"stale, not a metrics file")
        yield Path(directory)


@pytest.fixture(scope="module")
def server(migrated_database_url: str, metrics_dir: Path) -> Iterator[ProcfileServer]:
    with procfile_server(
        migrated_database_url,
        "observability",
        WEB_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        RATE_LIMIT_PER_ADDRESS="1000/minute",  # many logins from 127.0.0.1 on purpose
    ) as running:
        yield running


def test_every_line_on_stdout_is_json_and_requests_are_logged_once(
    server: ProcfileServer,
) -> None:
    response = httpx.get(f"{server.url}/v1/users/me", headers={REQUEST_ID_HEADER: "proc-1"})

    assert response.status_code == 401
    assert response.headers[REQUEST_ID_HEADER] == "proc-1"
    # Healthy means one worker answers; the other may still be starting.
    lines = _json_lines(
        server,
        until=lambda seen: (
            any(_is_access(line, "proc-1") for line in seen) and len(_worker_pids(seen)) == 2
        ),
    )
    access = [line for line in lines if _is_access(line, "proc-1")]
    assert len(access) == 1  # ours only: uvicorn's access log is off
    assert access[0]["path"] == "/v1/users/me" and access[0]["status"] == 401
    # The supervisor and both workers log as JSON too.
    assert any("Started parent process" in str(line["event"]) for line in lines)
    assert len(_worker_pids(lines)) == 2


def test_metrics_add_up_both_workers(server: ProcfileServer, metrics_dir: Path) -> None:
    logins = 0
    while logins < MAX_LOGINS:
        # A new connection each time, so either worker may take it.
        response = httpx.post(
            f"{server.url}/v1/users/login",
            json={"email": unique_email("nobody"), "password": PASSWORD},
        )
        assert response.status_code == 400, response.text
        logins += 1
        per_worker = _per_worker(metrics_dir, LOGINS, outcome="bad_credentials")
        if logins >= 4 and len([count for count in per_worker if count > 0]) == 2:
            break
    assert len([count for count in per_worker if count > 0]) == 2, per_worker
    assert sum(per_worker) == logins

    for _ in range(6):  # whichever worker answers, it reports both workers' counts
        scraped = httpx.get(f"{server.url}/metrics")
        assert scraped.status_code == 200
        assert metric_value(scraped.text, LOGINS, outcome="bad_credentials") == logins


def test_metrics_refuse_an_outside_client_behind_the_loopback(server: ProcfileServer) -> None:
    response = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})

    assert response.status_code == 404


def _per_worker(directory: Path, sample: str, **labels: str) -> list[float]:
    """The sample's value in each worker's own metrics file."""
    values = []
    for path in sorted(directory.glob("counter_*.db")):
        total = 0.0
        for family in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for item in family.samples:
                if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
                    total += item.value
        values.append(total)
    return values


def _worker_pids(lines: list[dict[str, Any]]) -> set[str]:
    events = " ".join(str(line["event"]) for line in lines)
    return set(re.findall(r"Started server process \[(\d+)\]", events))


def _is_access(line: dict[str, Any], request_id: str) -> bool:
    return line.get("event") == "request" and line.get("request_id") == request_id


def _json_lines(
    server: ProcfileServer, until: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Every line the process wrote, parsed (waiting a moment for the line `until` wants)."""
    deadline = time.monotonic() + 60  # two loaded cores start a worker slowly
    while True:
        text = server.log()
        lines: list[dict[str, Any]] = []
        for raw in text.splitlines():
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError:
                pytest.fail(f"Not a JSON line: {raw!r}\n{text}")
            assert isinstance(parsed, dict) and "event" in parsed and "level" in parsed, raw
            lines.append(parsed)
        if until(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)
