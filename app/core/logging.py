"""Structured logs: structlog renders every line, ours and the stdlib's (uvicorn, SQLAlchemy,
our modules' `logging.getLogger`), as one JSON object per line or, in development, for a
console. One handler on the root logger writes them all to stdout.

Cheap by design, since every request logs a line: no call-site or stack inspection, and
structlog's level filter drops disabled levels before any processor runs.
"""

import logging
import sys
from typing import TextIO

import structlog
from structlog.stdlib import ProcessorFormatter
from structlog.typing import Processor

from app.core.config import Settings, get_settings
from app.core.log_context import add_request_context, redact

# uvicorn's access lines: ours (app/api/request_log.py) replace them, with the route
# template, the request id and the user.
UVICORN_ACCESS = "uvicorn.access"
HANDLER_NAME = "structured"


def _shared_processors() -> list[Processor]:
    return [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_request_context,
        redact,
    ]


def build_formatter(settings: Settings) -> logging.Formatter:
    """The formatter that renders structlog's and the stdlib's records alike."""
    tail: list[Processor]
    if settings.log_renderer == "json":
        tail = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: rich's show each frame's local variables, passwords included.
        console = structlog.dev.ConsoleRenderer(
            colors=sys.stdout.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        tail = [console]
    return ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[ProcessorFormatter.remove_processors_meta, *tail],
    )


def stdout_handler() -> logging.Handler:
    """A handler for uvicorn's `--log-config` (app/core/uvicorn_logging.json), so the
    process that supervises the workers logs like them."""
    return _handler(get_settings(), sys.stdout)


def _handler(settings: Settings, stream: TextIO) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(settings))
    handler.set_name(HANDLER_NAME)
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Route all logging through structlog's formatter to `stream` (default: stdout)."""
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    handler = _handler(settings, stream or sys.stdout)
    root = logging.getLogger()
    # Replaces an earlier call's handler (and --log-config's); others (pytest's) stay.
    for earlier in [h for h in root.handlers if h.name == HANDLER_NAME]:
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn gives its loggers handlers of their own; theirs go through ours instead.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger(UVICORN_ACCESS).handlers = []
    logging.getLogger(UVICORN_ACCESS).propagate = False
    structlog.configure(
        processors=[
            *_shared_processors(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
