"""OAuth 2.0 endpoint tests: a standard client library (Authlib) against the app."""

from collections.abc import AsyncIterator

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

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
