"""JWKS and discovery, rotation seen through the API, instances sharing keys."""

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.api.well_known import CORE_METADATA, JWKS_MAX_AGE_SECONDS
from app.cli import rotate_signing_key
from app.context import AppContext
from app.core.config import Settings
from app.core.keys import KeySet
from app.db.models import SigningKey
from app.main import create_app
from tests.conftest import bearer, login, make_settings, register, running


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


async def published_kids(client: AsyncClient) -> set[str]:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return {key["kid"] for key in response.json()["keys"]}


@asynccontextmanager
async def instance(settings: Settings) -> AsyncIterator[tuple[AsyncClient, AppContext]]:
    app = create_app(settings)
    async with running(app) as client:
        yield client, app.state.context


async def reload(context: AppContext) -> None:
    """What every instance does within a minute (RELOAD_SECONDS), now."""
    assert context.signing_keys is not None
    context.tokens.ring.replace(await context.signing_keys.load())


async def test_the_jwks_publishes_the_key_that_signs(client: AsyncClient, user_token: str) -> None:
    response = await client.get("/.well-known/jwks.json")

    keys = {key["kid"]: key for key in response.json()["keys"]}
    key = keys[kid_of(user_token)]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["x"]
    assert key["alg"] == "EdDSA" and key["use"] == "sig" and "d" not in key
    max_age = int(re.fullmatch(r"public, max-age=(\d+)", response.headers["cache-control"])[1])  # type: ignore[index]
    assert max_age == JWKS_MAX_AGE_SECONDS and 0 < max_age < 900  # under the overlap


async def test_the_discovery_document_lists_what_the_service_does(
    client: AsyncClient, settings: Settings, user_token: str
) -> None:
    response = await client.get("/.well-known/openid-configuration")

    document = response.json()
    base = settings.public_url.rstrip("/")
    assert response.status_code == 200
    assert document["issuer"] == jwt.decode(user_token, options={"verify_signature": False})["iss"]
    assert document["jwks_uri"] == f"{base}/.well-known/jwks.json"
    assert document["token_endpoint"] == f"{base}/v1/oauth/token"
    assert document["revocation_endpoint"] == f"{base}/v1/oauth/revoke"
    assert document["introspection_endpoint"] == f"{base}/v1/tokens/introspect"
    assert document["grant_types_supported"] == ["password", "refresh_token"]
    assert document["access_token_signing_alg_values_supported"] == ["EdDSA"]
    assert "id_token_signing_alg_values_supported" not in document  # there are no ID tokens
    assert set(document) == CORE_METADATA  # what plugins may not publish under their name


async def test_the_discovery_document_uses_public_url_when_set(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    settings = make_settings(migrated_database_url, public_url="https://auth.example.com/")
    async with instance(settings) as (client, _):
        document = (await client.get("/.well-known/openid-configuration")).json()

    assert document["jwks_uri"] == "https://auth.example.com/.well-known/jwks.json"


@pytest.mark.usefixtures("restore_signing_keys")
async def test_a_rotated_key_keeps_its_tokens_working_until_revoked(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with instance(settings) as (client, context):
        await register(client, "rot@example.com")
        before = await login(client, "rot@example.com")

        await rotate_signing_key(settings, revoke_old=False)
        await reload(context)
        after = await login(client, "rot@example.com")

        assert kid_of(after) != kid_of(before)
        assert {kid_of(before), kid_of(after)} <= await published_kids(client)
        assert (await client.get("/v1/users/me", headers=bearer(before))).status_code == 200
        assert (await client.get("/v1/users/me", headers=bearer(after))).status_code == 200

        await rotate_signing_key(settings, revoke_old=True)
        await reload(context)
        newest = await login(client, "rot@example.com")

        assert await published_kids(client) == {kid_of(newest)}
        for dropped in (before, after):
            assert (await client.get("/v1/users/me", headers=bearer(dropped))).status_code == 401
        assert (await client.get("/v1/users/me", headers=bearer(newest))).status_code == 200


@pytest.mark.usefixtures("restore_signing_keys")
async def test_an_instance_accepts_a_key_made_by_another_at_once(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with instance(settings) as (first, _), instance(settings) as (second, context):
        await register(first, "two@example.com")
        await rotate_signing_key(settings, revoke_old=False)
        await reload(context)  # the second instance sees the new key; the first doesn't yet
        token = await login(second, "two@example.com")

        response = await first.get("/v1/users/me", headers=bearer(token))

    assert response.status_code == 200


@pytest.mark.usefixtures("restore_signing_keys")
async def test_instances_starting_together_share_one_key(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(delete(SigningKey))
    apps = [create_app(settings) for _ in range(3)]
    async with AsyncExitStack() as stack:
        clients = await asyncio.gather(*(stack.enter_async_context(running(a)) for a in apps))
        await register(clients[0], "shared@example.com")
        token = await login(clients[0], "shared@example.com")
        kids = [await published_kids(client) for client in clients]
        answers = [await client.get("/v1/users/me", headers=bearer(token)) for client in clients]

    assert kids == [{kid_of(token)}] * 3
    assert [answer.status_code for answer in answers] == [200] * 3


async def test_hs256_is_an_explicit_opt_in_with_nothing_to_publish(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    settings = make_settings(migrated_database_url, jwt_algorithm="HS256")
    async with instance(settings) as (client, _):
        await register(client, "hs@example.com")
        token = await login(client, "hs@example.com")
        jwks = (await client.get("/.well-known/jwks.json")).json()
        document = (await client.get("/.well-known/openid-configuration")).json()
        me = await client.get("/v1/users/me", headers=bearer(token))

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert me.status_code == 200
    assert jwks == {"keys": []}
    assert document["access_token_signing_alg_values_supported"] == []


@pytest.mark.usefixtures("restore_signing_keys")
async def test_es256_keys_sign_and_are_published_with_both_coordinates(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(delete(SigningKey))
    async with instance(settings.model_copy(update={"jwt_algorithm": "ES256"})) as (client, _):
        await register(client, "es@example.com")
        token = await login(client, "es@example.com")
        jwks: dict[str, Any] = (await client.get("/.well-known/jwks.json")).json()
        me = await client.get("/v1/users/me", headers=bearer(token))

    (key,) = jwks["keys"]
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": key["kid"], "typ": "JWT"}
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["x"] and key["y"]
    assert me.status_code == 200


async def test_the_jwks_is_refused_not_empty_while_no_key_is_loaded(
    client_for: Any,
) -> None:
    async with client_for(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere") as down:
        response = await down.get("/.well-known/jwks.json")

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"


async def test_keys_not_loaded_at_start_are_loaded_by_the_first_request(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with instance(settings) as (client, context):
        context.tokens.ring.replace(KeySet({}))  # as after a start the database was too slow for
        await register(client, "late@example.com")

        token = await login(client, "late@example.com")

        assert kid_of(token) in await published_kids(client)
