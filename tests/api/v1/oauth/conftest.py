"""OAuth 2.0 endpoint tests: a standard client library (Authlib) against the app."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response

from tests.oauth_client import AsyncOAuth2Client

TOKEN_URL = "/v1/oauth/token"
REVOKE_URL = "/v1/oauth/revoke"


def oauth_client(app: FastAPI) -> AsyncOAuth2Client:
    """A public client as an app would configure it: a client id, no secret."""
    return AsyncOAuth2Client(
        client_id="test-app",
        token_endpoint=TOKEN_URL,
        transport=ASGITransport(app=app),
        base_url="http://testserver",
    )


@pytest.fixture
async def oauth(app: FastAPI, client: AsyncClient) -> AsyncIterator[AsyncOAuth2Client]:
    """Authlib over the app the session's `client` runs (its lifespan is up)."""
    async with oauth_client(app) as library:
        yield library


def oauth_error(response: Response, status: int = 400) -> dict[str, Any]:
    """The RFC's error body with our code and message beside it, and nothing cached."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"error", "error_description", "code", "message"} <= set(body), body
    assert body["error_description"] == body["message"] or body["error_description"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    return body
