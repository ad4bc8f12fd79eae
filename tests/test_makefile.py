"""`make run` is how a new user first meets the service: it shows them the plugins."""

import os
import shutil
import subprocess

from app.core.config import PROJECT_ROOT


def test_make_run_enables_qr_sign_in() -> None:
    environment = {name: value for name, value in os.environ.items() if name != "PLUGINS"}
    make = shutil.which("make")
    assert make, "make test runs under make"
    planned = subprocess.run(  # noqa: S603 - the project's own Makefile
        [make, "-n", "run"],  # what it would run, without running it
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    serve = next(line for line in planned.splitlines() if "uvicorn app.main:app" in line)
    migrate = next(line for line in planned.splitlines() if "alembic upgrade heads" in line)
    for command in (serve, migrate):
        enabled = command.partition("PLUGINS=")[2].split()[0].split(",")
        assert "qr_login" in enabled, command
