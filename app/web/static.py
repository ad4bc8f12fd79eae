"""Static files, compressed and cacheable: the app's public/ and any plugin's folder.

Caching, without a build step to put content hashes in file names:
- a URL carrying the file's current content hash (`/js/api.js?v=3f2a...`) is
  `immutable` for a year: that URL can never name other bytes;
- any other URL (`/js/api.js`, index.html, pages) is `no-cache`: the browser may keep it
  but revalidates, a 304 thanks to the ETag.
index.html (app/web/frontend.py) is rewritten to ask for versioned URLs: its links and
scripts directly, and every module through an import map, which also catches the modules'
relative imports of each other. So a first load costs one request per file and a later
one a single revalidation of the page; a changed file changes its hash, the page (always
revalidated) names the new URL, and nothing stale survives.

Compression: gzip (level 9) of text-like files, computed once per file version (keyed by
mtime and size) and kept in memory. The JSON API is never compressed: answers that carry
tokens next to attacker-reflected input are what BREACH reads.
"""

import gzip
import hashlib
import os
import stat
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

VERSION_PARAMETER = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
MIN_COMPRESSED_BYTES = 256  # below this gzip's header outweighs the gain
MAX_CACHED_BYTES = 8 * 1024 * 1024  # bigger files are streamed from disk as they are


@dataclass(frozen=True)
class Asset:
    """One version of one file, in memory: its bytes, its gzip form, and its validators."""

    mtime_ns: int
    size: int
    body: bytes
    gzipped: bytes | None
    version: str  # a content hash: the `?v=` of versioned URLs and the ETag's core
    media_type: str
    last_modified: str

    @classmethod
    def read(cls, path: Path, status: os.stat_result, media_type: str) -> "Asset":
        body = path.read_bytes()
        compressible = media_type.startswith(COMPRESSIBLE_TYPES)
        gzipped = (
            gzip.compress(body, compresslevel=9, mtime=0)
            if compressible and len(body) >= MIN_COMPRESSED_BYTES
            else None
        )
        return cls(
            mtime_ns=status.st_mtime_ns,
            size=status.st_size,
            body=body,
            gzipped=gzipped if gzipped is not None and len(gzipped) < len(body) else None,
            version=hashlib.sha256(body).hexdigest()[:16],
            media_type=media_type,
            last_modified=formatdate(status.st_mtime, usegmt=True),
        )


class StaticAssets(StaticFiles):
    """StaticFiles with gzip, content-hash ETags, and immutable caching of versioned URLs.

    Mount it like StaticFiles (`app.mount("/plugins/qr", StaticAssets(directory=...))`);
    `versioned_urls("/plugins/qr")` gives the URLs a page should use to get long caching.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._assets: dict[str, Asset] = {}

    def asset(self, full_path: PathLike, status: os.stat_result | None = None) -> Asset:
        """The file's current version, read and compressed once per change."""
        key = os.fspath(full_path)
        status = status or os.stat(key)
        cached = self._assets.get(key)
        if cached is None or (cached.mtime_ns, cached.size) != (
            status.st_mtime_ns,
            status.st_size,
        ):
            media_type = FileResponse(key, stat_result=status).media_type or "text/plain"
            cached = Asset.read(Path(key), status, media_type)
            self._assets[key] = cached
        return cached

    def versioned_urls(self, url_prefix: str = "") -> dict[str, str]:
        """`{"/js/app.js": "/js/app.js?v=<hash>", ...}` for every file served from here."""
        urls: dict[str, str] = {}
        for directory in self.all_directories:
            root = Path(directory)
            for path in sorted(root.rglob("*")):
                status = path.stat()
                if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_CACHED_BYTES:
                    continue
                url = f"{url_prefix}/{path.relative_to(root).as_posix()}"
                urls.setdefault(url, f"{url}?{VERSION_PARAMETER}={self.asset(path).version}")
        return urls

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        if stat_result.st_size > MAX_CACHED_BYTES:
            return super().file_response(full_path, stat_result, scope, status_code)
        return asset_response(self.asset(full_path, stat_result), scope, status_code)


def asset_response(asset: Asset, scope: Scope, status_code: int = 200) -> Response:
    """The asset for this request: gzipped if accepted, 304 if the browser has it."""
    request_headers = Headers(scope=scope)
    use_gzip = asset.gzipped is not None and accepts_gzip(request_headers)
    etag = f'"{asset.version}-gzip"' if use_gzip else f'"{asset.version}"'
    requested_version = QueryParams(scope.get("query_string", b"")).get(VERSION_PARAMETER)
    headers = {
        "ETag": etag,
        "Last-Modified": asset.last_modified,
        "Cache-Control": IMMUTABLE if requested_version == asset.version else REVALIDATE,
        "Vary": "Accept-Encoding",
    }
    if status_code == 200 and not_modified(request_headers, etag, asset.last_modified):
        return Response(status_code=304, headers=headers)
    body = asset.gzipped if use_gzip and asset.gzipped is not None else asset.body
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    headers["Content-Length"] = str(len(body))
    return Response(
        b"" if scope["method"] == "HEAD" else body,
        status_code=status_code,
        headers=headers,
        media_type=asset.media_type,
    )


def accepts_gzip(headers: Headers) -> bool:
    """Accept-Encoding names gzip (or `*`) without refusing it with `q=0`."""
    for item in headers.get("accept-encoding", "").split(","):
        coding, _, parameters = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = parameters.strip().lower().removeprefix("q=")
        try:
            return not parameters.strip() or float(quality) > 0
        except ValueError:
            return False
    return False


def not_modified(headers: Headers, etag: str, last_modified: str | None) -> bool:
    """RFC 9110: If-None-Match decides when present (weak comparison); else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        presented = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in presented or "*" in presented
    return last_modified is not None and headers.get("if-modified-since") == last_modified


def named_match(route: BaseRoute, match: Match, child_scope: Scope) -> tuple[Match, Scope]:
    """`route`'s match, naming the route in the scope as FastAPI's own routes do: the
    request log and the latency metric label a request by it (else `unmatched`)."""
    if match is not Match.NONE:
        child_scope["route"] = route
    return match, child_scope


class StaticMount(Mount):
    """A Mount of static files whose requests are logged under its path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return named_match(self, *super().matches(scope))
