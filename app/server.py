"""`python -m app.server`: uvicorn's command line, exiting 0 after a SIGTERM drain.

uvicorn drains on SIGTERM and then raises the signal again under the handler that was in
place before it started. With Python's default handler that kills the process (status
143), which process managers report as a crash even after a clean shutdown. Installing a
handler of our own first turns that last signal into a normal exit. (Only the moment
before uvicorn installs its handlers would ignore a SIGTERM; it takes milliseconds.)
The Procfile's `web:` line runs this; every uvicorn option works as on `uvicorn` itself.
"""

import signal
from types import FrameType

from uvicorn.main import main as uvicorn_main


def _already_handled(signum: int, frame: FrameType | None) -> None:
    """uvicorn has drained by the time it raises SIGTERM again; let it return normally."""


def main() -> None:
    signal.signal(signal.SIGTERM, _already_handled)
    uvicorn_main()


if __name__ == "__main__":
    main()
