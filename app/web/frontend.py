"""Serves the browser app from public/, with index.html for client-side routes.

index.html is served rewritten so every asset it reaches is asked for by a versioned,
long-cached URL (see app/web/static.py): its `src`/`href` attributes directly, and the
modules through an import map placed before the first script. An import map must be
inline, so that page's CSP allows exactly its SHA-256 and no other inline script.
"""

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from app.api.middleware import CONTENT_SECURITY_POLICY
from app.core.config import PROJECT_ROOT
from app.web.static import (
    REVALIDATE,
    StaticAssets,
    accepts_gzip,
    named_match,
    not_modified,
)

PUBLIC_DIR = PROJECT_ROOT / "public"
INDEX = PUBLIC_DIR / "index.html"
# Paths the frontend never answers for: a missing API route stays a JSON 404.
NOT_FRONTEND_PREFIXES = (
    "/v1",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
)
# A same-origin absolute URL in a src or href attribute: the ones we can version.
ASSET_ATTRIBUTE = re.compile(r'\b(src|href)="(/[^"?#]*)"')
FIRST_SCRIPT = re.compile(r"<script\b", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes
    etag: str
    content_security_policy: str


def versioned_page(html: str, urls: dict[str, str]) -> Page:
    """index.html asking for versioned URLs, with the CSP that admits its import map."""
    modules = {url: versioned for url, versioned in urls.items() if url.endswith(".js")}
    import_map = json.dumps({"imports": modules}, separators=(",", ":"), sort_keys=True)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    tag = f'<script type="importmap">{import_map}</script>\n  '
    html = ASSET_ATTRIBUTE.sub(lambda found: f'{found[1]}="{urls.get(found[2], found[2])}"', html)
    script = FIRST_SCRIPT.search(html)
    at = script.start() if script else html.lower().find("</head>")
    html = html[:at] + tag + html[at:] if at >= 0 else tag + html
    body = html.encode()
    policy = CONTENT_SECURITY_POLICY.replace(
        "script-src 'self'", f"script-src 'self' 'sha256-{digest}'"
    )
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
    return Page(body, gzip.compress(body, compresslevel=9, mtime=0), etag, policy)


class FrontendFiles(StaticAssets):
    """public/, plus index.html (versioned) for `/` and any other page URL (`/profile`)."""

    def __init__(self) -> None:
        super().__init__(directory=PUBLIC_DIR)
        self._page: tuple[tuple[str, ...], Page] | None = None

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path in (".", "index.html"):
            return self.page_response(scope)
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not _is_page_request(scope):
                raise
            return self.page_response(scope)

    def page(self) -> Page:
        """The rewritten page, rebuilt only when a file's version changes."""
        urls = self.versioned_urls()
        key = tuple(sorted(urls.values()))
        if self._page is None or self._page[0] != key:
            self._page = (key, versioned_page(INDEX.read_text(encoding="utf-8"), urls))
        return self._page[1]

    def page_response(self, scope: Scope) -> Response:
        page = self.page()
        request_headers = Headers(scope=scope)
        use_gzip = accepts_gzip(request_headers)
        headers = {
            "ETag": page.etag[:-1] + '-gzip"' if use_gzip else page.etag,
            "Cache-Control": REVALIDATE,
            "Content-Security-Policy": page.content_security_policy,
            "Vary": "Accept-Encoding",
        }
        if not_modified(request_headers, headers["ETag"], None):
            return Response(status_code=304, headers=headers)
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        return Response(
            page.gzipped if use_gzip else page.body, headers=headers, media_type="text/html"
        )


class FrontendRoute(Route):
    """The catch-all page route, blind to API paths.

    Were it to match `GET /v1/users/me/verification-email`, it would answer 404 and hide
    the API route's 405 (which comes from a partial match, and any full match wins).
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if _is_api_path(scope["path"]):
            return Match.NONE, {}
        return named_match(self, *super().matches(scope))


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
    if not INDEX.is_file():
        return
    files = FrontendFiles()

    async def serve_frontend(request: Request) -> Response:
        return await files.get_response(files.get_path(request.scope), request.scope)

    app.router.routes.append(
        FrontendRoute(
            "/{path:path}", serve_frontend, methods=["GET", "HEAD"], include_in_schema=False
        )
    )
