"""The README's Authlib example runs as written against the real web process."""

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.core.config import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveServer, run_server
from tests.oauth_client import OAuth2Client

README_URL = "http://127.0.0.1:8000"


def readme_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### OAuth 2.0 clients", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "the OAuth 2.0 clients section has a Python example"
    return found.group(1)


@pytest.fixture(scope="module")
def server(migrated_database_url: str) -> Iterator[LiveServer]:
    with run_server(migrated_database_url, "oauth-readme") as live:
        yield live


def test_the_readme_example_signs_in_refreshes_and_signs_out(server: LiveServer) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 10
    with httpx.Client(base_url=server.url) as http:
        registered = http.post(
            "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text

    names: dict[str, Any] = {}
    exec(code.replace(README_URL, server.url), names)  # noqa: S102 - our own README
    client = names["client"]
    client.close()  # the example's, which a script ends by exiting

    assert isinstance(client, OAuth2Client)
    assert names["me"]["email"] == "ann@example.com"
    with httpx.Client(base_url=server.url) as http:
        me = http.get(
            "/v1/users/me", headers={"Authorization": f"Bearer {client.token['access_token']}"}
        )
    assert me.status_code == 401  # revoked: its session ended
