"""DATABASE_URL as PaaS providers hand it out (libpq style), translated for asyncpg.

libpq's query parameters mostly have no asyncpg keyword, and asyncpg rejects unknown
ones on every connection. So only parameters asyncpg takes stay in the URL, the useful
libpq ones are translated, and the rest (keepalives, gssencmode, ...) are dropped with a
warning.
"""

import logging
import re
import ssl
from typing import Any

from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

# Query parameters SQLAlchemy's asyncpg dialect passes on and asyncpg accepts.
ASYNCPG_PARAMS = frozenset(
    {
        "ssl",
        "timeout",
        "command_timeout",
        "prepared_statement_cache_size",
        "prepared_statement_name_func",
        "statement_cache_size",
        "direct_tls",
        "target_session_attrs",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
    }
)
# libpq parameters translated into connect arguments by libpq_connect_args().
TRANSLATED = frozenset({"sslmode", "sslrootcert", "application_name", "options", "connect_timeout"})
VERIFYING_SSLMODES = ("require", "verify-ca", "verify-full")


def normalize_database_url(raw: str) -> URL:
    """Accept postgres://, postgresql:// and postgresql+asyncpg:// (and sqlite) URLs."""
    url = make_url(
        "postgresql://" + raw.removeprefix("postgres://") if raw.startswith("postgres://") else raw
    )
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if url.get_backend_name() != "postgresql":
        return url
    query = {k: v for k, v in url.query.items() if k in ASYNCPG_PARAMS}
    dropped = set(url.query) - ASYNCPG_PARAMS - TRANSLATED
    if dropped:
        logger.warning(
            "DATABASE_URL: ignoring parameters asyncpg has no use for: %s",
            ", ".join(sorted(dropped)),
        )
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str) and "ssl" not in query and not _custom_ca(url):
        query["ssl"] = sslmode  # asyncpg takes libpq's sslmode values as `ssl`
    return url.set(drivername="postgresql+asyncpg", query=query)


def libpq_connect_args(raw: str) -> dict[str, Any]:
    """asyncpg arguments for libpq's application_name, options (-c name=value or --name=value),
    connect_timeout and sslrootcert, which can't travel in the URL."""
    url = make_url("postgresql://" + raw.split("://", 1)[-1])
    query = url.query
    args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    if isinstance(name := query.get("application_name"), str):
        server_settings["application_name"] = name
    if isinstance(options := query.get("options"), str):
        for option in re.findall(r"(?:-c\s*|--)(\S+=\S*)", options):
            key, _, value = option.partition("=")
            server_settings[key] = value
    if server_settings:
        args["server_settings"] = server_settings
    timeout = query.get("connect_timeout")
    if isinstance(timeout, str) and float(timeout) > 0:  # libpq: 0 means wait forever
        args["timeout"] = float(timeout)
    if (cafile := _custom_ca(url)) is not None:
        args["ssl"] = _ssl_context(
            cafile, verify_hostname=_sslmode(url) == "verify-full" or cafile == "system"
        )
    return args


def _sslmode(url: URL) -> str | None:
    mode = url.query.get("sslmode")
    return mode if isinstance(mode, str) else None


def _custom_ca(url: URL) -> str | None:
    """sslrootcert, when the sslmode verifies certificates (libpq ignores it otherwise;
    `system` alone implies verify-full)."""
    cafile, mode = url.query.get("sslrootcert"), _sslmode(url)
    if not isinstance(cafile, str):
        return None
    if mode in VERIFYING_SSLMODES or (mode is None and cafile == "system"):
        return cafile
    return None


def _ssl_context(cafile: str, *, verify_hostname: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=None if cafile == "system" else cafile)
    context.check_hostname = verify_hostname
    return context
