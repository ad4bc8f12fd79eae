"""The OpenAPI document, with FastAPI's default 422 body replaced by the one we send."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import ErrorBody, ValidationErrorBody

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing, invalid or expired token."}
}
VALIDATION_ERROR: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationErrorBody, "description": "Some fields are missing or invalid."}
}
_OURS = {"$ref": f"#/components/schemas/{ValidationErrorBody.__name__}"}
_FASTAPI_DEFAULTS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    invalid = operation.get("responses", {}).get("422")
                    if invalid is not None:
                        invalid["content"] = {"application/json": {"schema": _OURS}}
            components = schema.get("components", {}).get("schemas", {})
            for name in _FASTAPI_DEFAULTS:
                components.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
