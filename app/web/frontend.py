"""Serves the browser app from public/, with index.html for client-side routes."""

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.core.config import PROJECT_ROOT

PUBLIC_DIR = PROJECT_ROOT / "public"
# Paths the frontend never answers for: a missing API route stays a JSON 404.
NOT_FRONTEND_PREFIXES = ("/v1", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz")
# No build step means no content-hashed file names, so browsers must revalidate
# (cheap, thanks to ETag) instead of caching a stale module next to a fresh one.
REVALIDATE = {"Cache-Control": "no-cache"}


class FrontendFiles(StaticFiles):
    """Static files, plus index.html for any other page URL (`/profile`, `/admin?...`)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not _is_page_request(scope):
                raise
            response = FileResponse(PUBLIC_DIR / "index.html")
        response.headers.update(REVALIDATE)
        return response


class FrontendRoute(Route):
    """The catch-all page route, blind to API paths.

    Were it to match `GET /v1/users/me/verification-email`, it would answer 404 and hide
    the API route's 405 (which comes from a partial match, and any full match wins).
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if _is_api_path(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def _is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in NOT_FRONTEND_PREFIXES)


def _is_page_request(scope: Scope) -> bool:
    """A browser navigating to an app URL, not a script, an image or an API call."""
    if _is_api_path(scope["path"]):
        return False
    accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
    return "text/html" in accept


def mount_frontend(app: FastAPI) -> None:
    """Serve public/ at `/`; call after the API routers so they match first.

    A GET/HEAD route rather than a mount: a mount matches every method, so it would
    answer a wrong-method API request (`PUT /v1/users/login`) instead of letting the
    API route say 405 with its own Allow header.
    """
    if not (PUBLIC_DIR / "index.html").is_file():
        return
    files = FrontendFiles(directory=PUBLIC_DIR, html=True)

    async def serve_frontend(request: Request) -> Response:
        return await files.get_response(files.get_path(request.scope), request.scope)

    app.router.routes.append(
        FrontendRoute(
            "/{path:path}", serve_frontend, methods=["GET", "HEAD"], include_in_schema=False
        )
    )
