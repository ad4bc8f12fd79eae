"""Uvicorn in a subprocess, bound to 127.0.0.1, stopped when the block ends."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from app.core.config import PROJECT_ROOT

STARTUP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn(
    app: str,
    env: Mapping[str, str],
    *,
    ready_path: str = "/healthz",
    workers: int = 1,
    extra_args: Sequence[str] = (),
    python: str = sys.executable,
) -> Iterator[Server]:
    """Serve `app` ("module:attribute") until the block ends; waits until it answers.
    With one worker, `pid` is the process that serves (uvicorn forks none). `python` is
    the interpreter, this one's unless given (bench/runtime_venv.py)."""
    port = free_port()
    command = [
        python,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        *extra_args,
    ]
    # The request log is written (its cost is part of the figures) but not shown.
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url + ready_path)
        yield Server(base_url=base_url, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} at start-up")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url} within {STARTUP_TIMEOUT_SECONDS} s")
