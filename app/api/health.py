"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import logging

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.deps import ContextDep
from app.api.error_handlers import error_response
from app.core.errors import ErrorBody, ErrorCode
from app.db.engine import PROBE_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)  # load balancers often probe with HEAD
async def healthz() -> dict[str, str]:
    """The process is up (no I/O)."""
    return {"status": "ok"}


@router.head("/readyz", include_in_schema=False)
@router.get(
    "/readyz",
    responses={
        503: {
            "model": ErrorBody,
            "description": "A dependency failed; `checks` names it and says how "
            '(`{"database": "timeout"}` or `"unreachable"`).',
        }
    },
)
async def readyz(context: ContextDep) -> object:
    """The database answers within two seconds, on a connection of the probe's own."""
    database = await _check_database(context.probe_engine)
    checks = {"database": database}
    if database != "ok":
        return error_response(
            503,
            ErrorCode.SERVICE_UNAVAILABLE,
            "The database is unavailable.",
            {"Retry-After": "5"},
            status="unavailable",
            checks=checks,
        )
    return {"status": "ok", "checks": checks}


async def _check_database(engine: AsyncEngine) -> str:
    try:
        # The probe engine bounds its connect and command by the same budget; this bounds
        # the sum, so the answer comes within the promised two seconds whatever hangs.
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except TimeoutError:
        logger.warning("Readiness: the database did not answer within %s s", PROBE_TIMEOUT_SECONDS)
        return "timeout"
    except Exception as exc:  # any failure means "not ready"; the probe must not 500
        logger.warning("Readiness: the database is unreachable: %r", exc)
        return "unreachable"
    return "ok"
