"""Structured logs on stdout: one JSON object per line, or in development lines for a console.

Two paths, one format. Our own lines (`structlog.get_logger()`, the access line of every
request) are rendered by structlog and written straight to stdout: the stdlib's logging
machinery (a LogRecord, a stack walk to find the caller, a handler lock) would cost several
times more on every request. Everything logged through the stdlib (uvicorn, SQLAlchemy,
our modules' `logging.getLogger`) reaches one root handler whose structlog formatter
renders it the same way.
"""

import logging
import sys
from typing import TextIO, cast

import structlog
from structlog.stdlib import ProcessorFormatter
from structlog.typing import Processor

from app.core.config import Settings, get_settings
from app.core.log_context import add_request_context, redact
from app.core.tracing import log_processors

# uvicorn's access lines: ours (app/api/request_log.py) replace them, with the route
# template, the request id and the user.
UVICORN_ACCESS = "uvicorn.access"
HANDLER_NAME = "structured"


class _Stdout:
    """sys.stdout as it is at each write, so a test runner that swaps it sees our lines."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


STDOUT = cast(TextIO, _Stdout())


def _common_processors(settings: Settings) -> list[Processor]:
    # No call-site or stack inspection here: these run for every line.
    return [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_request_context,
        *log_processors(settings),  # trace_id and span_id, when tracing is on
        redact,
    ]


def _renderers(settings: Settings) -> list[Processor]:
    if settings.log_renderer == "json":
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    # Plain tracebacks: rich's show each frame's local variables, passwords included.
    return [
        structlog.dev.ConsoleRenderer(
            colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    ]


def build_formatter(settings: Settings) -> logging.Formatter:
    """The formatter that renders the stdlib's records like our own lines."""
    return ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_common_processors(settings)],
        processors=[ProcessorFormatter.remove_processors_meta, *_renderers(settings)],
    )


def stdout_handler() -> logging.Handler:
    """A handler for uvicorn's `--log-config` (app/core/uvicorn_logging.json), so the
    process that supervises the workers logs like them."""
    return _handler(get_settings())


def _handler(settings: Settings) -> logging.Handler:
    handler = logging.StreamHandler(STDOUT)
    handler.setFormatter(build_formatter(settings))
    handler.set_name(HANDLER_NAME)
    return handler


def configure_logging(settings: Settings) -> None:
    """Send every log line, structlog's and the stdlib's, to stdout in one format."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    root = logging.getLogger()
    # Replaces an earlier call's handler (and --log-config's); others (pytest's) stay.
    for earlier in [h for h in root.handlers if h.name == HANDLER_NAME]:
        root.removeHandler(earlier)
    root.addHandler(_handler(settings))
    root.setLevel(level)
    # uvicorn gives its loggers handlers of their own; theirs go through ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger(UVICORN_ACCESS).handlers = []
    logging.getLogger(UVICORN_ACCESS).propagate = False
    structlog.configure(
        processors=[*_common_processors(settings), *_renderers(settings)],
        logger_factory=structlog.WriteLoggerFactory(STDOUT),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
