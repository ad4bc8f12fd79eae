"""The real web process: the Procfile's `web:` line, run by `sh -c` as a PaaS would.

`procfile_server(database_url, **env)` starts it on a free port in production mode (with
the settings production requires), waits for /healthz and stops it afterwards; `env`
overrides or, with None, removes variables. `procfile_server_for_module` makes a fixture
that shares one server across a test module:

    server = procfile_server_for_module(TRUSTED_PROXIES="10.0.0.0/8")

`command_process` and `command_server` run another command in that same environment
instead of the web line (the container's entrypoint script, say).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import PROJECT_ROOT

PROCFILE = PROJECT_ROOT / "Procfile"
LOGS = PROJECT_ROOT / "tmp" / "artifacts"
STARTUP_SECONDS = 60  # two loaded cores; a healthy start takes a second or two
# Every app and process a test run starts on its shared database holds this one
# SECRET_KEY, as the instances of one deployment do. With keys of their own, each would
# find the current signing key sealed under another's and replace it in its maintenance
# round, once a minute, changing the keys under whatever test is running then.
RUN_SECRET_KEY = secrets.token_hex(32)


@dataclass
class ProcfileServer:
    url: str
    host: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def procfile_command(process_type: str = "web") -> str:
    """The command of one process type in the Procfile."""
    for line in PROCFILE.read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return command.strip()
    raise AssertionError(f"no {process_type}: line in {PROCFILE}")


def unique_email(prefix: str) -> str:
    """The server's database outlives a test: every test brings its own accounts."""
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def procfile_env(database_url: str, port: int, **env: str | None) -> dict[str, str]:
    """The environment a PaaS would give the process: production settings, our venv first."""
    base = {
        key: value
        for key, value in os.environ.items()
        # The test run's own settings (if any) must not leak into the process under test.
        if not key.startswith(("APP_", "RATE_LIMIT", "TRUSTED_", "FORWARDED_", "UVICORN_"))
    }
    values: dict[str, str | None] = {
        **base,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "APP_ENV": "production",
        "SECRET_KEY": RUN_SECRET_KEY,
        "DATABASE_URL": database_url,
        "BCRYPT_ROUNDS": "10",  # the production minimum
        "RATE_LIMITS_ENABLED": "true",
        "SMTP_HOST": "",
        # Required in production, and https as deployed (nothing here follows the links).
        "PUBLIC_URL": "https://auth.example.test",
        **env,
    }
    return {key: value for key, value in values.items() if value is not None}


RunningProcess = tuple[subprocess.Popen[bytes], int, dict[str, str], Path]


def web_line() -> list[str]:
    """The Procfile's web line, run by `sh -c` as a PaaS runs it."""
    return ["/bin/sh", "-c", procfile_command("web")]


@contextmanager
def procfile_process(
    database_url: str, name: str = "web", **env: str | None
) -> Iterator[RunningProcess]:
    """The web line running (not necessarily healthy: it may be refusing to start)."""
    with command_process(web_line(), database_url, name, **env) as running:
        yield running


@contextmanager
def command_process(
    argv: list[str], database_url: str, name: str, /, **env: str | None
) -> Iterator[RunningProcess]:
    """`argv` running in the web line's environment, on a free port ($PORT)."""
    port = free_port()
    environment = procfile_env(database_url, port, **env)
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"procfile-{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the Procfile's line or the project's script
            argv,
            env=environment,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group: a shell may fork uvicorn instead of exec'ing it,
            # and uvicorn forks workers; stopping the group stops them all.
            start_new_session=True,
        )
    try:
        yield process, port, environment, log_path
    finally:
        _stop(process)


@contextmanager
def procfile_server(
    database_url: str, name: str = "web", **env: str | None
) -> Iterator[ProcfileServer]:
    """The web line serving on a free port until the block ends."""
    with command_server(web_line(), database_url, name, **env) as server:
        yield server


@contextmanager
def command_server(
    argv: list[str], database_url: str, name: str, /, **env: str | None
) -> Iterator[ProcfileServer]:
    """`argv` (which must start the web process) serving until the block ends."""
    with command_process(argv, database_url, name, **env) as (process, port, environment, log):
        server = ProcfileServer(
            f"http://127.0.0.1:{port}", "127.0.0.1", port, environment, log, process
        )
        _wait_until_healthy(server)
        yield server


def procfile_server_for_module(**env: str | None) -> Any:
    """A module-scoped fixture: one Procfile server for every test in the module."""

    @pytest.fixture(scope="module")
    def server(
        migrated_database_url: str, request: pytest.FixtureRequest
    ) -> Iterator[ProcfileServer]:
        name = request.module.__name__.rpartition(".")[2]
        with procfile_server(migrated_database_url, name, **env) as running:
            yield running

    return server


def _wait_until_healthy(server: ProcfileServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"The web process exited with {server.process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"The web process wasn't healthy within {STARTUP_SECONDS} s:\n{server.log()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, then SIGKILL to what is left after a while."""
    for sig, seconds in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        if _group_ended(process, seconds):
            break
    process.wait()


def _group_ended(process: subprocess.Popen[bytes], seconds: float) -> bool:
    # The shell may exit before the uvicorn it forked, so wait for the group, not the shell.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        process.poll()  # reap the shell, or it stays in the group as a zombie
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
