"""A path with a stray or missing trailing slash is a 404, never a redirect.

Starlette's default answers it with a 307 to an absolute URL made from the Host header and
the socket's scheme: a client that follows it re-sends its body (a password, on
`POST /v1/users`) to whatever host the request named, or over plain http behind a TLS proxy.
"""

import pytest
from httpx import AsyncClient

from tests.api.test_allowed_methods import PATHS, concrete
from tests.conftest import PASSWORD


def toggled(path: str) -> str:
    return path.rstrip("/") if path.endswith("/") else path + "/"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        pytest.param(path, method, id=f"{method} {path}")
        for path, methods in PATHS.items()
        for method in sorted(methods)
        if path != "/"
    ],
)
async def test_the_other_spelling_of_a_path_is_404_without_a_redirect(
    client: AsyncClient, path: str, method: str
) -> None:
    response = await client.request(
        method,
        toggled(concrete(path)),
        json={"email": "ann@example.com", "password": PASSWORD},
        headers={"Host": "evil.example"},
    )

    assert response.status_code == 404, response.headers.get("location")
    assert "location" not in response.headers
    assert response.json()["code"] == "NOT_FOUND"
