"""Browser tests: the real app under uvicorn, driven by Debian's Chromium via Playwright.

Each server is a subprocess on a free 127.0.0.1 port, using the run's freshly
migrated PostgreSQL database (see tests/conftest.py). Every test gets its own
browser context; a console error, an uncaught page error, a failed request or
an HTTP error the test didn't declare fails it. On failure a screenshot and
the server log are left in tmp/artifacts/.
"""

import asyncio
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    ViewportSize,
    async_playwright,
    expect,
)

from app.core.config import PROJECT_ROOT
from tests.live_server import RUN_SECRET_KEY

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Containers often give /dev/shm only 64 MB, too little for Chromium's renderers.
    "--disable-dev-shm-usage",
]
ARTIFACTS = PROJECT_ROOT / "tmp" / "artifacts"
PASSWORD = "correct horse battery"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
# Chromium repeats every HTTP error and network failure as a console error;
# both are checked on their own (with the test's expectations), so these are skipped.
FAILED_RESOURCE_MESSAGE = "Failed to load resource: "

API_CALLS = {"fetch", "xhr"}
# Room for a slow CI machine; a passing run doesn't wait for it.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
WATCH = pytest.StashKey["PageWatch"]()


@dataclass
class LiveServer:
    url: str
    database_url: str
    env: dict[str, str]
    log_path: Path

    async def create_superuser(self, email: str, password: str = PASSWORD) -> None:
        """The documented way: `python -m app.cli create-superuser`, against the same database."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            "create-superuser",
            email,
            env={**self.env, "SUPERUSER_PASSWORD": password},
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, output.decode()

    async def register(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        """A user made through the API, for tests about something else than registering."""
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.post("/v1/users/", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def mail_link(self, to: str, page: str, *, after: int = 0) -> str:
        """The link to `page` in the newest mail to `to` the server logged; waits for it."""
        pattern = re.compile(
            rf"Mail not sent \(no SMTP_HOST\) to {re.escape(to)}:.*?\n.*?"
            rf"({re.escape(self.url)}/{page}#token=\S+)",
            re.DOTALL,
        )
        for _ in range(100):
            links = pattern.findall(self.log_path.read_text())
            if len(links) > after:
                link: str = links[-1]
                return link
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {page} mail to {to} in {self.log_path}")

    async def login_status(self, email: str, password: str = PASSWORD) -> int:
        async with httpx.AsyncClient(base_url=self.url) as client:
            response = await client.post(
                "/v1/users/login", json={"email": email, "password": password}
            )
        return response.status_code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_server(database_url: str, name: str, **settings: str) -> Iterator[LiveServer]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": RUN_SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        "APP_ENV": "development",
        # Many tests log in from the same address within a minute; the limits
        # themselves are covered by the API tests.
        "RATE_LIMITS_ENABLED": "false",
        # Without SMTP_HOST mails go to the log, links included (see mail_link).
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMTP_HOST": "",
        **settings,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"server-{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, env, log_path)
    try:
        _wait_until_healthy(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"The app exited with {process.returncode}:\n{server.log_path.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"The app didn't become healthy in 30 s:\n{server.log_path.read_text()}")


@pytest.fixture(scope="session")
def live_server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "main") as server:
        yield server


@pytest.fixture(scope="session")
def short_session_server(migrated_database_url: str) -> Iterator[LiveServer]:
    """Access tokens that expire after 1 second (plus the 5 s clock leeway the API allows)."""
    with run_server(
        migrated_database_url, "short-session", ACCESS_TOKEN_LIFETIME_SECONDS="1"
    ) as server:
        yield server


@pytest.fixture(scope="session")
def strict_limits_server(migrated_database_url: str) -> Iterator[LiveServer]:
    """Rate limits on, with room for only two failed logins per account and minute."""
    with run_server(
        migrated_database_url,
        "strict-limits",
        RATE_LIMITS_ENABLED="true",
        RATE_LIMIT_LOGIN_FAILURES="2/minute",
    ) as server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install it with `make browser`.")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@dataclass
class PageWatch:
    """What went wrong in a page. Tests declare the HTTP errors they provoke on purpose."""

    # A page load asks to renew a session only when the `signed_in` hint cookie is
    # there, so no HTTP error is expected unless a test declares it.
    expected: set[tuple[str, str, int]] = field(default_factory=set)
    expected_failures: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def expect_http_error(self, method: str, path: str, status: int) -> None:
        self.expected.add((method, path, status))

    def expect_network_failure(self, method: str, path: str) -> None:
        self.expected_failures.add((method, path))

    def count(self, method: str, path: str) -> int:
        """How many requests the page has sent to this API path so far."""
        return self.requests.count((method, path))

    def on_request(self, request: Request) -> None:
        self.requests.append((request.method, urlsplit(request.url).path))

    def on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        key = (response.request.method, urlsplit(response.url).path, response.status)
        if key not in self.expected:
            self.problems.append(f"unexpected HTTP {key[2]} for {key[0]} {key[1]}")

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith(FAILED_RESOURCE_MESSAGE):
            self.problems.append(f"console error: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"page error: {error}")

    def on_request_failed(self, request: Request) -> None:
        # Navigating (a reload, page.goto) cancels the old page's icon and module loads
        # and its reads in flight (the app aborts none itself: no AbortController in
        # public/js), and a cancelled read loses nothing; a cancelled write could hide a bug.
        if request.failure == "net::ERR_ABORTED" and (
            request.resource_type not in API_CALLS or request.method == "GET"
        ):
            return
        if (request.method, urlsplit(request.url).path) in self.expected_failures:
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so fixtures can tell if the test failed."""
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


_PLUGIN_API: dict[str, bool] = {}


def has_plugin_api(base_url: str) -> bool:
    """Whether the server offers `GET /v1/plugins`; without it the app asks and gets 404."""
    if base_url not in _PLUGIN_API:
        _PLUGIN_API[base_url] = httpx.get(f"{base_url}/v1/plugins").status_code != 404
    return _PLUGIN_API[base_url]


def watch_page(page: Page, watch: PageWatch) -> None:
    page.on("request", watch.on_request)
    page.on("response", watch.on_response)
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("requestfailed", watch.on_request_failed)


async def open_page(
    browser: Browser, base_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=base_url, viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    watch = PageWatch()
    if not has_plugin_api(base_url):
        watch.expect_http_error("GET", "/v1/plugins", 404)
    request.node.stash[WATCH] = watch
    watch_page(page, watch)
    try:
        yield page
    finally:
        # What happened during the test; closing the context cancels requests still running.
        problems = list(watch.problems)
        reports = request.node.stash.get(REPORTS, {})
        if problems or any(report.failed for report in reports.values()):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
        await context.close()
    if problems:
        pytest.fail("The page reported problems:\n" + "\n".join(problems))


@pytest.fixture
async def page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    async for page in open_page(browser, live_server.url, request):
        yield page


@pytest.fixture
async def short_session_page(
    browser: Browser, short_session_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    async for page in open_page(browser, short_session_server.url, request):
        yield page


@pytest.fixture
async def strict_limits_page(
    browser: Browser, strict_limits_server: LiveServer, request: pytest.FixtureRequest
) -> AsyncIterator[Page]:
    async for page in open_page(browser, strict_limits_server.url, request):
        yield page


@pytest.fixture
def watch(request: pytest.FixtureRequest) -> PageWatch:
    """The watcher of the test's page (`page` or one of the `*_page` fixtures)."""
    for name in ("page", "short_session_page", "strict_limits_page"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
    watch: PageWatch = request.node.stash[WATCH]
    return watch


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


async def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in through the form on the current (login) view and wait for the next view."""
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(lambda url: "/login" not in url)
