"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio

from fastapi import APIRouter
from sqlalchemy import text

from app.api.deps import ContextDep
from app.api.error_handlers import error_response
from app.core.errors import ErrorBody, ErrorCode

router = APIRouter(tags=["health"])
READINESS_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)  # load balancers often probe with HEAD
async def healthz() -> dict[str, str]:
    """The process is up (no I/O)."""
    return {"status": "ok"}


@router.head("/readyz", include_in_schema=False)
@router.get(
    "/readyz",
    responses={503: {"model": ErrorBody, "description": "The database did not answer in time."}},
)
async def readyz(context: ContextDep) -> object:
    """The database answers within two seconds."""
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            async with context.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the probe must not 500
        return error_response(503, ErrorCode.SERVICE_UNAVAILABLE, "The database is unavailable.")
    return {"status": "ok"}
