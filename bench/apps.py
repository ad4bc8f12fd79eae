"""The apps under test (ours, stock fastapi-users, the floor): how to serve each, their
URLs, and the benchmark account."""

import importlib
import os
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.core.config import Settings
from bench.database import scratch_database
from bench.servers import Server, uvicorn

EMAIL = "bench@example.com"
PASSWORD = "correct horse battery staple"


def hash_concurrency() -> int:
    """How many hashes our app runs at once: the app's default (nproc) unless overridden."""
    return int(os.environ.get("HASH_CONCURRENCY", os.cpu_count() or 2))


def our_env(database_url: str, bcrypt_rounds: int) -> dict[str, str]:
    """Settings for app.main:app; explicit, so a developer's .env changes nothing here."""
    return {
        "HASH_CONCURRENCY": str(hash_concurrency()),
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "BCRYPT_ROUNDS": str(bcrypt_rounds),
        "RATE_LIMITS_ENABLED": "false",
        "PLUGINS": "",
        "CORS_ORIGINS": "",
        # The floor (bench/floor_app.py) checks our tokens with SECRET_KEY; token_algorithms
        # compares the algorithms themselves.
        "JWT_ALGORITHM": "HS256",
        # As in production: a JSON line per request (to /dev/null, see servers.py); metrics on.
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }


def floor_env(database_url: str, secret_key: str) -> dict[str, str]:
    """The floor reads our database with our key, so our tokens work on it."""
    defaults = Settings.model_fields
    dsn = make_url(database_url).set(drivername="postgresql")
    return {
        "FLOOR_DATABASE_URL": dsn.render_as_string(hide_password=False),
        "FLOOR_SECRET_KEY": secret_key,
        "FLOOR_JWT_ISSUER": str(defaults["jwt_issuer"].default),
        "FLOOR_JWT_AUDIENCE": str(defaults["jwt_audience"].default),
        "FLOOR_POOL_SIZE": str(defaults["database_pool_size"].default),
    }


def stock_env(database_url: str, bcrypt_rounds: int) -> dict[str, str]:
    return {
        "STOCK_DATABASE_URL": database_url,
        "STOCK_SECRET": secrets.token_hex(32),
        "STOCK_BCRYPT_ROUNDS": str(bcrypt_rounds),
    }


@dataclass(frozen=True)
class App:
    name: str
    module: str  # "module:attribute" for uvicorn
    env: Callable[[str, int], dict[str, str]]  # (database URL, bcrypt cost) -> environment
    migrated: bool  # ours runs the Alembic migrations; stock creates its table at start-up
    register_path: str
    login_path: str  # both take the OAuth2 password form
    me_path: str
    # uvicorn options beyond the common ones: ours runs with the Procfile's web options
    extra_args: tuple[str, ...] = ()


OURS = App(
    name="ours",
    module="app.main:app",
    env=our_env,
    migrated=True,
    register_path="/v1/users/",
    login_path="/v1/users/login",
    me_path="/v1/users/me",
    extra_args=(
        "--http",
        "app.protocol:HTTPProtocol",
        "--no-proxy-headers",
        "--no-server-header",
        "--ws",
        "none",
    ),
)
STOCK = App(
    name="stock",
    module="bench.stock_app:app",
    env=stock_env,
    migrated=False,
    register_path="/auth/register",
    login_path="/auth/jwt/login",
    me_path="/users/me",
)


FLOOR_MODULE = "bench.floor_app:app"  # serves only /me, for our users: not an App


# Each benchmark gives each app two phases of load in this order, both servers up all
# along, so a change in the machine's load during the run weighs on both apps alike.
ABBA = (STOCK, OURS, OURS, STOCK)


@asynccontextmanager
async def serving(
    app: App, *, bcrypt_rounds: int, workers: int = 1, python: str = sys.executable
) -> AsyncIterator[tuple[Server, str]]:
    """`app` on its own scratch database in a uvicorn: (server, database URL)."""
    async with scratch_database(f"bench_{app.name}", migrate=app.migrated) as url:
        env = app.env(url, bcrypt_rounds)
        with uvicorn(
            app.module, env, workers=workers, extra_args=app.extra_args, python=python
        ) as server:
            yield server, url


@asynccontextmanager
async def serving_with_floor(
    *, bcrypt_rounds: int, our_workers: tuple[int, ...] = ()
) -> AsyncIterator[dict[str, tuple[Server, str]]]:
    """Stock, ours and the floor (on our database, with our key), by name; plus ours and
    the floor with more workers on the same database as "ours×N" and "floor×N" for each N
    in `our_workers`."""
    async with (
        serving(STOCK, bcrypt_rounds=bcrypt_rounds) as stock,
        scratch_database(f"bench_{OURS.name}", migrate=True) as url,
    ):
        env = OURS.env(url, bcrypt_rounds)
        with ExitStack() as stack:
            servers = {STOCK.name: stock}
            servers[OURS.name] = (
                stack.enter_context(uvicorn(OURS.module, env, extra_args=OURS.extra_args)),
                url,
            )
            floor = uvicorn(FLOOR_MODULE, floor_env(url, env["SECRET_KEY"]))
            servers["floor"] = (stack.enter_context(floor), url)
            for workers in our_workers:
                more = uvicorn(OURS.module, env, workers=workers, extra_args=OURS.extra_args)
                servers[f"ours×{workers}"] = (stack.enter_context(more), url)
                more = uvicorn(FLOOR_MODULE, floor_env(url, env["SECRET_KEY"]), workers=workers)
                servers[f"floor×{workers}"] = (stack.enter_context(more), url)
            yield servers


@asynccontextmanager
async def serving_both(*, bcrypt_rounds: int) -> AsyncIterator[dict[str, tuple[Server, str]]]:
    """Both apps at once, by name: (server, database URL)."""
    async with (
        serving(STOCK, bcrypt_rounds=bcrypt_rounds) as stock,
        serving(OURS, bcrypt_rounds=bcrypt_rounds) as ours,
    ):
        yield {STOCK.name: stock, OURS.name: ours}


def import_stock_app(database_url: str, *, bcrypt_rounds: int) -> FastAPI:
    """The stock app in this process. Like the docs' app it reads its settings on import,
    so this works once per process."""
    os.environ.update(stock_env(database_url, bcrypt_rounds))
    module = importlib.import_module("bench.stock_app")
    if module.DATABASE_URL != database_url:
        raise RuntimeError("bench.stock_app was already imported for another database")
    app: FastAPI = module.app
    return app


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
