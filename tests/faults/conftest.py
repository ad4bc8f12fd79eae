"""Fault tests: the real web process, started from the Procfile, talks to the test
PostgreSQL through a TcpProxy (tests/faults/proxy.py) that the tests break and heal.

The process gets short timeouts (FAULT_SETTINGS) so every scenario fits in a few
seconds; the bounds the tests assert are those timeouts plus MARGIN for a loaded machine.
"""

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.core.config import PROJECT_ROOT
from tests.faults.proxy import Mode, TcpProxy
from tests.live_server import RUN_SECRET_KEY

ARTIFACTS = PROJECT_ROOT / "tmp" / "artifacts"
STOP_WAIT_SECONDS = 30  # then SIGKILL: a hang fails the test instead of the run
MARGIN = 3.0  # seconds on top of a timeout before a test calls it a hang
FAULT_SETTINGS = {
    "DATABASE_COMMAND_TIMEOUT_SECONDS": "1",
    "DATABASE_CONNECT_TIMEOUT_SECONDS": "1",
    "DATABASE_POOL_TIMEOUT": "1",
    "DATABASE_POOL_SIZE": "2",
    "DATABASE_MAX_OVERFLOW": "0",
    "SHUTDOWN_TIMEOUT_SECONDS": "2",
}


def procfile_command(process_type: str = "web") -> str:
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return command.strip()
    raise AssertionError(f"no {process_type}: line in the Procfile")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class WebProcess:
    url: str
    process: asyncio.subprocess.Process
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()

    async def stop(self) -> tuple[int, float]:
        """SIGTERM, as a platform does; the exit status and how long the exit took."""
        started = time.monotonic()
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.process.wait(), STOP_WAIT_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        return status, time.monotonic() - started


async def start_web(database_url: str, name: str, **settings: str) -> WebProcess:
    """The Procfile's web line under `sh -c`, as a PaaS runs it."""
    port = _free_port()
    env = {
        **os.environ,
        # `python` in the Procfile is this interpreter (the venv's).
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "SECRET_KEY": RUN_SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        "APP_ENV": "development",
        "RATE_LIMITS_ENABLED": "false",
        "SMTP_HOST": "",
        "WEB_CONCURRENCY": "1",
        **FAULT_SETTINGS,
        **settings,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"server-faults-{name}.log"
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            "/bin/sh",
            "-c",
            procfile_command(),
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    web = WebProcess(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=web.url, timeout=1) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                pytest.fail(f"The app exited with {process.returncode}:\n{web.log()}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return web
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    await process.wait()
    pytest.fail(f"The app didn't become healthy in 30 s:\n{web.log()}")


@pytest.fixture(scope="module")
async def proxy(migrated_database_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(migrated_database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture(scope="module")
def proxied_database_url(migrated_database_url: str, proxy: TcpProxy) -> str:
    # libpq style, as a PaaS hands it out.
    url = make_url(migrated_database_url).set(drivername="postgresql", port=proxy.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
async def _heal(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test leaves the link to the database working."""
    yield
    if "proxy" in request.fixturenames:
        await request.getfixturevalue("proxy").set_mode(Mode.PASS)


@pytest.fixture(scope="module")
async def web(proxied_database_url: str, proxy: TcpProxy) -> AsyncIterator[WebProcess]:
    """One server for a module's scenarios (each heals the proxy when it ends)."""
    server = await start_web(proxied_database_url, "shared")
    yield server
    await server.stop()


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The response and how long it took."""
    started = time.monotonic()
    response = await request
    return response, time.monotonic() - started
