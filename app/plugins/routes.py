"""`GET /v1/plugins`: the enabled plugins' frontend parts, for the browser app to load."""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

router = APIRouter(prefix="/v1/plugins", tags=["plugins"])
# It changes only when the service restarts with other PLUGINS.
CACHEABLE = "public, max-age=300"


class FrontendPart(BaseModel):
    name: str
    module: str
    styles: list[str]


class Manifest(BaseModel):
    plugins: list[FrontendPart]


@router.get("", response_model=Manifest)
async def list_plugins(request: Request, response: Response) -> Manifest:
    """The enabled plugins that have a frontend part: the ES module to `import()` and its
    stylesheets (see README, "Writing a plugin")."""
    response.headers["Cache-Control"] = CACHEABLE
    manifest: Manifest = request.app.state.plugin_manifest
    return manifest
