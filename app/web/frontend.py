"""Serves the browser app from public/, with index.html for client-side routes."""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from app.core.config import PROJECT_ROOT

PUBLIC_DIR = PROJECT_ROOT / "public"
API_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")


def mount_frontend(app: FastAPI) -> None:
    index = PUBLIC_DIR / "index.html"
    if not index.exists():
        return

    @app.exception_handler(404)
    async def fallback_to_index(request: Request, exc: Exception) -> object:
        if request.method == "GET" and not request.url.path.startswith(API_PREFIXES) and \
                "text/html" in request.headers.get("accept", ""):
            return FileResponse(index)
        from app.api.error_handlers import handle_http_exception

        return await handle_http_exception(request, exc)

    app.mount("/", StaticFiles(directory=Path(PUBLIC_DIR), html=True), name="frontend")
