"""The container, checked without a Docker engine (this machine has none).

The entrypoint script runs exactly as the image runs it (release, then web) against a
database of its own; the Dockerfile's HEALTHCHECK command probes that server; the
Dockerfile, .dockerignore and compose.yaml are read for what they promise. When a
compose tool is installed, it validates compose.yaml too.
"""

import asyncio
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from app.core.config import PROJECT_ROOT, Settings
from tests.conftest import _admin_dsn
from tests.live_server import command_process, command_server, free_port, procfile_command

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
COMPOSE = PROJECT_ROOT / "compose.yaml"
ENTRYPOINT = PROJECT_ROOT / "scripts" / "docker-entrypoint.sh"
DRAINED_WITHIN = 30.0  # SHUTDOWN_TIMEOUT_SECONDS (10) plus two loaded cores' slack
# Read by the Procfile's lines (or by uvicorn), not by the app's settings.
PROCESS_VARIABLES = {"WEB_CONCURRENCY", "PORT"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in logical.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def arguments_of(keyword: str) -> list[str]:
    return [arguments for found, arguments in dockerfile_instructions() if found == keyword]


def healthcheck_argv() -> list[str]:
    """The HEALTHCHECK's CMD, as the shell form the Dockerfile uses runs it."""
    (healthcheck,) = arguments_of("HEALTHCHECK")
    _, _, command = healthcheck.partition("CMD ")
    return ["/bin/sh", "-c", command]


@pytest.fixture
async def empty_database_url() -> AsyncIterator[str]:
    """A database with no tables at all: the container's release step must build it."""
    admin_dsn = _admin_dsn()
    admin = await asyncpg.connect(admin_dsn, timeout=5)
    name = f"auth_container_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_dsn).set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def applied_revisions(database_url: str) -> set[str]:
    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        return {row["version_num"] for row in await connection.fetch("TABLE alembic_version")}
    finally:
        await connection.close()


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini"))).get_heads())


def test_the_entrypoint_migrates_then_serves_and_drains_on_sigterm(
    empty_database_url: str,
) -> None:
    with command_server([str(ENTRYPOINT)], empty_database_url, "container-entrypoint") as server:
        assert asyncio.run(applied_revisions(empty_database_url)) == head_revisions()
        # `exec` all the way down: the process the container starts *is* the server now,
        # so the SIGTERM of `docker stop` reaches uvicorn, not a shell that ignores it.
        command_line = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"app.server" in command_line
        probe = subprocess.run(  # noqa: S603 - the Dockerfile's own probe
            healthcheck_argv(), env=server.env, capture_output=True, timeout=30, check=False
        )
        assert probe.returncode == 0, probe.stderr

        server.process.send_signal(signal.SIGTERM)

        # 0 only through app.server's drain: the signal reached uvicorn, not a shell.
        assert server.process.wait(timeout=DRAINED_WITHIN) == 0, server.log()


def test_the_healthcheck_fails_when_nothing_answers() -> None:
    environment = {**os.environ, "PORT": str(free_port())}

    probe = subprocess.run(  # noqa: S603 - the Dockerfile's own probe
        healthcheck_argv(), env=environment, capture_output=True, timeout=30, check=False
    )

    assert probe.returncode != 0


def test_the_entrypoint_does_not_serve_when_the_release_step_fails() -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    with command_process([str(ENTRYPOINT)], unreachable, "container-release-fails") as (
        process,
        port,
        _,
        log_path,
    ):
        returncode = process.wait(timeout=60)
        log = log_path.read_text(errors="replace")

    assert returncode != 0, log
    assert "Uvicorn running" not in log
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_the_entrypoint_runs_the_procfile_lines() -> None:
    """The image can't drift from the Procfile: the script reads its lines, never copies."""
    script = ENTRYPOINT.read_text()
    assert os.access(ENTRYPOINT, os.X_OK)
    assert procfile_command("release") not in script
    assert procfile_command("web") not in script
    assert re.search(r'^\s*exec sh -c "\$web"', script, re.MULTILINE)


def test_the_image_runs_as_a_user_of_its_own() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    users = arguments_of("USER")

    assert users, "no USER: the container would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    # Everything after the last USER (the entrypoint, the probe) runs as that user.
    assert "RUN" not in keywords[last_user:]
    assert keywords.index("ENTRYPOINT") > last_user


def test_the_image_is_slim_python_311_with_runtime_packages_only() -> None:
    (base,) = arguments_of("FROM")
    installs = [run for run in arguments_of("RUN") if "pip install" in run]
    copied = " ".join(arguments_of("COPY"))

    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base)
    assert installs == ["pip install -r requirements.txt"]
    assert "-c constraints.txt" in (PROJECT_ROOT / "requirements.txt").read_text()
    assert "constraints.txt" in copied
    assert "requirements-dev" not in DOCKERFILE.read_text()


def test_the_image_probes_healthz_and_starts_with_the_entrypoint() -> None:
    (healthcheck,) = arguments_of("HEALTHCHECK")
    (entrypoint,) = arguments_of("ENTRYPOINT")

    assert "/healthz" in healthcheck
    assert "curl" not in healthcheck  # slim images have none
    assert json.loads(entrypoint) == [f"/app/{ENTRYPOINT.relative_to(PROJECT_ROOT)}"]


def test_the_image_copies_what_exists_and_the_build_context_leaves_secrets_out() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    sources = [
        source
        for arguments in arguments_of("COPY")
        for source in shlex.split(arguments)[:-1]
        if not source.startswith("--")
    ]

    for source in sources:
        assert (PROJECT_ROOT / source).exists(), source
        assert source.split("/")[0] not in ignored, source
    assert {".git", ".venv", "data", "tmp", ".env", "**/secret_key", "tests"} <= ignored


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_starts_the_app_after_healthy_stores_and_one_migration() -> None:
    services = compose()["services"]
    app, migrate = services["app"], services["migrate"]

    assert app["command"] == ["web"]
    assert migrate["command"] == ["release"]
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]


def test_compose_gives_the_app_settings_it_knows() -> None:
    environment = compose()["services"]["app"]["environment"]
    known = {name.upper() for name in Settings.model_fields} | PROCESS_VARIABLES

    assert set(environment) <= known, set(environment) - known
    assert environment["APP_ENV"] == "production"
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert environment["PUBLIC_URL"] == "${PUBLIC_URL:?set PUBLIC_URL}"
    assert make_url(environment["DATABASE_URL"]).host == "postgres"
    assert environment["RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:")


def compose_tool() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        version = subprocess.run(  # noqa: S603 - a fixed command
            [docker, "compose", "version"], capture_output=True, check=False
        )
        if version.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_validates_and_refuses_to_start_without_a_secret_key() -> None:
    tool = compose_tool()
    if tool is None:
        pytest.skip("no docker compose or docker-compose installed: compose.yaml read above")
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    check = [*tool, "-f", str(COMPOSE), "config", "-q"]

    without_key = subprocess.run(  # noqa: S603 - a fixed command
        check, env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    with_key = subprocess.run(  # noqa: S603 - a fixed command
        check,
        env={**environment, "SECRET_KEY": secrets.token_hex(32)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert without_key.returncode != 0
    assert "set SECRET_KEY" in without_key.stderr
    assert with_key.returncode == 0, with_key.stderr
