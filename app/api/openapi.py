"""The OpenAPI document: our error bodies, and every status a route can answer with.

Routes list the errors of their own rules in `responses=`. The statuses that come from
the layers around every route are added here, so a new route documents them too:
a body too large for the cap (413) wherever a body is accepted, and the database being
unavailable (503) wherever a request uses it. Every error body's `code` lists the codes
a client can get, the enabled plugins' own included.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from app.api.deps import get_token_user_manager
from app.core.errors import ErrorBody, ValidationErrorBody, known_codes
from app.db.session import get_session

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or expired token."}
}
VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationErrorBody, "description": "Some fields are missing or invalid."}
}
_OURS = {"$ref": f"#/components/schemas/{ValidationErrorBody.__name__}"}
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
_FASTAPI_DEFAULTS = ("HTTPValidationError", "ValidationError")
TOO_LARGE = {
    "description": "The request body is larger than MAX_BODY_BYTES.",
    "content": _ERROR_BODY,
}
UNAVAILABLE = {
    "description": "The database is unavailable or busy; retry after `Retry-After` seconds.",
    "content": _ERROR_BODY,
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            uses_database = _operations_using_the_database(app)
            for path, operations in schema.get("paths", {}).items():
                for method, operation in operations.items():
                    _complete(operation, database=(method, path) in uses_database)
            components = schema.get("components", {}).get("schemas", {})
            for name in _FASTAPI_DEFAULTS:
                components.pop(name, None)
            for body in components.values():
                fields = body.get("properties", {})
                if {"code", "message"} <= fields.keys():  # ErrorBody and its extensions
                    fields["code"]["enum"] = known_codes()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(operation: dict[str, Any], *, database: bool) -> None:
    responses = operation.setdefault("responses", {})
    invalid = responses.get("422")
    if invalid is not None:
        invalid["content"] = {"application/json": {"schema": _OURS}}
    if "requestBody" in operation:
        responses.setdefault("413", TOO_LARGE)
    if database:
        responses.setdefault("503", UNAVAILABLE)


def _operations_using_the_database(app: FastAPI) -> set[tuple[str, str | None]]:
    # Route contexts, not app.routes: included routers are not flattened into the latter.
    return {
        (method.lower(), route.path_format)
        for route in iter_route_contexts(app.routes)
        # The unit of work, or a token check (on the request's session without it).
        if _depends_on(getattr(route, "dependant", None), get_session, get_token_user_manager)
        for method in route.methods or ()
    }


def _depends_on(dependant: Dependant | None, *calls: object) -> bool:
    if dependant is None:
        return False
    return any(sub.call in calls or _depends_on(sub, *calls) for sub in dependant.dependencies)
