"""One validation status: a body that can't be read is a 422 like any other invalid input."""

from typing import Any

import pytest
from httpx import AsyncClient

from app.main import create_app
from tests.conftest import make_settings

_SPEC = create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
JSON_BODIES = [
    pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
    for path, operations in _SPEC["paths"].items()
    for method, operation in operations.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
]
NOT_UTF8 = [b"\xff\xfe\xfd", b'{"email": "\xe9@example.com"}', b"\xc3\x28"]


def _assert_validation_error(response: Any) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["errors"] and {"field", "message"} <= set(body["errors"][0])


@pytest.mark.parametrize(("method", "path"), JSON_BODIES)
@pytest.mark.parametrize("body", NOT_UTF8, ids=["bom-like", "latin-1-inside-json", "bad-pair"])
async def test_json_body_that_is_not_utf8_is_the_documented_422(
    client: AsyncClient, superuser_token: str, method: str, path: str, body: bytes
) -> None:
    url = path.replace("{user_id}", "00000000-0000-4000-8000-000000000000")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {superuser_token}"}

    response = await client.request(method, url, content=body, headers=headers)

    _assert_validation_error(response)
    assert "422" in _SPEC["paths"][path][method.lower()]["responses"]


async def test_broken_multipart_login_is_422(client: AsyncClient) -> None:
    response = await client.post(
        "/v1/users/login",
        content=b"--x\r\nContent-Disposition: form-data\r\n\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )

    _assert_validation_error(response)
