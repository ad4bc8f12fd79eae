"""`python -m app.server`: uvicorn's command line, exiting 0 after a SIGTERM drain.

uvicorn drains on SIGTERM and then raises the signal again under the handler that was in
place before it started. With Python's default handler that kills the process (status
143), which process managers report as a crash even after a clean shutdown. Installing a
handler of our own first turns that last signal into a normal exit. (Only the moment
before uvicorn installs its handlers would ignore a SIGTERM; it takes milliseconds.)
The Procfile's `web:` line runs this; every uvicorn option works as on `uvicorn` itself.

It also gives the workers a shared PROMETHEUS_MULTIPROC_DIR (app/core/metrics.py), so
/metrics adds up every worker's counts whichever worker answers it.
"""

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from uvicorn.main import main as uvicorn_main


def _already_handled(signum: int, frame: FrameType | None) -> None:
    """uvicorn has drained by the time it raises SIGTERM again; let it return normally."""


# Read by prometheus_client when it is imported, so it is set before any worker starts
# (and this module doesn't import prometheus_client itself).
MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[None]:
    """The workers' metric files: in PROMETHEUS_MULTIPROC_DIR, emptied of a previous run's
    (which would otherwise be counted again), or else in a temporary directory."""
    given = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    with tempfile.TemporaryDirectory(prefix="auth-service-metrics-") as directory:
        os.environ[MULTIPROC_DIR_VARIABLE] = directory
        try:
            yield
        finally:
            # The directory is gone after this: nothing started later may be pointed at it.
            del os.environ[MULTIPROC_DIR_VARIABLE]


def main() -> None:
    signal.signal(signal.SIGTERM, _already_handled)
    with metrics_directory():
        uvicorn_main()


if __name__ == "__main__":
    main()
