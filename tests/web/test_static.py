"""Static files: gzip, validators, long caching of versioned URLs, the page's import map."""

import base64
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette

from app.web.frontend import PUBLIC_DIR
from app.web.static import IMMUTABLE, StaticAssets

GZIP = {"Accept-Encoding": "gzip, br"}
FIRST_LOAD_BUDGET = 60 * 1024
Folder = tuple[AsyncClient, Path, StaticAssets]


@pytest.fixture
async def folder(tmp_path: Path) -> AsyncIterator[Folder]:
    """A plugin-style mount of StaticAssets on a folder of our own."""
    (tmp_path / "card.js").write_text("export const card = 'hello';\n" * 40)
    (tmp_path / "tiny.txt").write_text("hi")
    assets = StaticAssets(directory=tmp_path)
    app = Starlette()
    app.mount("/plugins/demo", assets)
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, tmp_path, assets


async def test_text_is_gzipped_when_accepted_and_plain_otherwise(
    folder: Folder,
) -> None:
    client, root, _ = folder
    raw = (root / "card.js").read_bytes()

    zipped = await client.get("/plugins/demo/card.js", headers=GZIP)
    plain = await client.get("/plugins/demo/card.js", headers={"Accept-Encoding": "identity"})
    refused = await client.get("/plugins/demo/card.js", headers={"Accept-Encoding": "gzip;q=0"})

    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(raw) / 4
    assert zipped.content == raw  # httpx decodes it
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in plain.headers and plain.content == raw
    assert "content-encoding" not in refused.headers
    assert zipped.headers["etag"] != plain.headers["etag"]  # two representations
    assert "javascript" in zipped.headers["content-type"]


async def test_a_tiny_file_is_sent_as_it_is(folder: Folder) -> None:
    client, _, _ = folder

    response = await client.get("/plugins/demo/tiny.txt", headers=GZIP)

    assert "content-encoding" not in response.headers and response.text == "hi"


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_etag_and_last_modified_revalidate_to_304(folder: Folder, encoding: str) -> None:
    client, _, _ = folder
    headers = {"Accept-Encoding": encoding}
    first = await client.get("/plugins/demo/card.js", headers=headers)

    by_etag = await client.get(
        "/plugins/demo/card.js", headers={**headers, "If-None-Match": first.headers["etag"]}
    )
    by_date = await client.get(
        "/plugins/demo/card.js",
        headers={**headers, "If-Modified-Since": first.headers["last-modified"]},
    )
    other = await client.get(
        "/plugins/demo/card.js", headers={**headers, "If-None-Match": '"something-else"'}
    )

    assert (by_etag.status_code, by_date.status_code, other.status_code) == (304, 304, 200)
    assert by_etag.content == b"" and by_etag.headers["etag"] == first.headers["etag"]


async def test_only_the_current_versioned_url_is_immutable(
    folder: Folder,
) -> None:
    client, _, assets = folder
    versioned = assets.versioned_urls("/plugins/demo")["/plugins/demo/card.js"]

    current = await client.get(versioned)
    bare = await client.get("/plugins/demo/card.js")
    stale = await client.get("/plugins/demo/card.js?v=0000000000000000")

    assert re.fullmatch(r"/plugins/demo/card\.js\?v=[0-9a-f]{16}", versioned)
    assert current.headers["cache-control"] == IMMUTABLE
    assert bare.headers["cache-control"] == stale.headers["cache-control"] == "no-cache"


async def test_a_changed_file_is_served_new_with_a_new_version(
    folder: Folder,
) -> None:
    client, root, _ = folder
    before = await client.get("/plugins/demo/card.js", headers=GZIP)
    path = root / "card.js"
    path.write_text("export const card = 'changed';\n" * 40)
    later = os.stat(path).st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(later, later))

    after = await client.get("/plugins/demo/card.js", headers=GZIP)

    assert "changed" in after.text
    assert after.headers["etag"] != before.headers["etag"]


async def test_head_sends_the_headers_without_the_body(
    folder: Folder,
) -> None:
    client, _, _ = folder

    response = await client.head("/plugins/demo/card.js", headers=GZIP)

    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 0


async def test_missing_files_and_escapes_are_404(
    folder: Folder,
) -> None:
    client, _, _ = folder

    missing = await client.get("/plugins/demo/nope.js")
    escape = await client.get("/plugins/demo/..%2F..%2Fetc%2Fpasswd")

    assert (missing.status_code, escape.status_code) == (404, 404)


# -- the app's own page and files -------------------------------------------------------------


async def test_the_page_asks_for_every_local_asset_by_its_versioned_url(
    client: AsyncClient,
) -> None:
    page = await client.get("/", headers={**GZIP, "Accept": "text/html"})

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-encoding"] == "gzip"
    local = re.findall(r'\b(?:src|href)="(/[^"]*)"', page.text)
    assert local and all("?v=" in url for url in local if url not in ("/", "/docs")), local
    for url in local:
        if "?v=" in url:
            asset = await client.get(url, headers=GZIP)
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == IMMUTABLE, url


async def test_the_import_map_covers_every_module_and_only_it_may_run_inline(
    client: AsyncClient,
) -> None:
    page = await client.get("/", headers={"Accept": "text/html"})

    [import_map] = re.findall(r'<script type="importmap">(.*?)</script>', page.text, re.S)
    modules = json.loads(import_map)["imports"]
    on_disk = {f"/{p.relative_to(PUBLIC_DIR).as_posix()}" for p in PUBLIC_DIR.rglob("*.js")}
    assert set(modules) == on_disk
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    assert page.text.index("importmap") < page.text.index('type="module"')


async def test_page_urls_get_the_page_and_it_revalidates_to_304(client: AsyncClient) -> None:
    page = await client.get("/profile", headers={"Accept": "text/html"})

    again = await client.get(
        "/", headers={"Accept": "text/html", "If-None-Match": page.headers["etag"]}
    )

    assert page.status_code == 200 and "importmap" in page.text
    assert again.status_code == 304


async def test_json_api_answers_are_never_compressed(client: AsyncClient) -> None:
    response = await client.get("/openapi.json", headers=GZIP)

    assert response.status_code == 200
    assert "content-encoding" not in response.headers


LAZY = "/vendor/"


async def test_first_load_fits_the_budget_compressed(client: AsyncClient) -> None:
    """An upper bound of the first anonymous load: the page and every file in public/,
    compressed as sent (the login page loads a subset; Chromium's measure of the real
    load is in tests/e2e). public/vendor/ is left out: the strength estimator there is
    loaded only when someone types a new password (public/js/strength.js)."""
    page = await client.get("/", headers={**GZIP, "Accept": "text/html"})
    sizes = {"/": int(page.headers["content-length"])}
    for url in json.loads(re.findall(r'importmap">(.*?)<', page.text)[0])["imports"].values():
        if not url.startswith(LAZY):
            sizes[url] = await _sent_bytes(client, url)
    for path in PUBLIC_DIR.rglob("*"):
        url = f"/{path.relative_to(PUBLIC_DIR).as_posix()}"
        if path.is_file() and not url.endswith((".js", "index.html")) and not url.startswith(LAZY):
            sizes[url] = await _sent_bytes(client, url)

    assert sum(sizes.values()) <= FIRST_LOAD_BUDGET, sorted(sizes.items(), key=lambda s: -s[1])
    assert sizes["/"] < len(page.content)  # sent compressed


async def _sent_bytes(client: AsyncClient, url: str) -> int:
    response = await client.get(url, headers=GZIP)
    assert response.status_code == 200, url
    return int(response.headers["content-length"])
