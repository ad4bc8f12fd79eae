"""The two apps under test, their URLs, and the account every benchmark signs in with."""

from dataclasses import dataclass

import httpx

EMAIL = "bench@example.com"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class App:
    module: str  # "module:attribute" for uvicorn
    register_path: str
    login_path: str  # both take the OAuth2 password form
    me_path: str


OURS = App("app.main:app", "/v1/users/", "/v1/users/login", "/v1/users/me")
STOCK = App("bench.stock_app:app", "/auth/register", "/auth/jwt/login", "/users/me")


async def sign_up(client: httpx.AsyncClient, app: App) -> str:
    """Register the benchmark user and return an access token."""
    response = await client.post(app.register_path, json={"email": EMAIL, "password": PASSWORD})
    response.raise_for_status()
    return await log_in(client, app)


async def log_in(client: httpx.AsyncClient, app: App) -> str:
    response = await client.post(app.login_path, data={"username": EMAIL, "password": PASSWORD})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token
