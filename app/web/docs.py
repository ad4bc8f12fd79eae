"""The interactive API docs at /docs, served whole from this process (no CDN).

Swagger UI 5 is vendored (docs_files/swagger-ui-*/README.md says why and how to update)
and starts from a script file of ours, so the page runs under the app's strict CSP like
every other page. Development only: production serves neither the docs nor the OpenAPI
document.
"""

from html import escape
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from app.web.static import REVALIDATE, StaticAssets

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
DOCS_FILES = Path(__file__).parent / "docs_files"
SWAGGER_UI = f"{ASSETS_PATH}/swagger-ui-5.35.0"

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · API docs</title>
  <link rel="icon" type="image/png" href="{favicon}">
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve the docs page and its assets; build the app with `docs_url=None`."""
    assets = StaticAssets(directory=DOCS_FILES)
    app.mount(ASSETS_PATH, assets, name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        urls = assets.versioned_urls(ASSETS_PATH)
        page = PAGE.format(
            title=escape(app.title),
            openapi_url=escape(openapi_url),
            favicon=urls[f"{SWAGGER_UI}/favicon-32x32.png"],
            css=urls[f"{SWAGGER_UI}/swagger-ui.css"],
            bundle=urls[f"{SWAGGER_UI}/swagger-ui-bundle.js"],
            init=urls[f"{ASSETS_PATH}/swagger-init.js"],
        )
        return HTMLResponse(page, headers={"Cache-Control": REVALIDATE})
