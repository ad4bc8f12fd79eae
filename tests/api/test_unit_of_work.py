"""The request's unit of work: every route that may write commits through it, and a token
check that only reads goes without it, on the same session."""

import logging

import pytest
from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.session import get_session
from app.main import create_app
from app.plugins.api import CurrentUser, Plugin, PluginSettings, SessionDep
from tests.api.test_error_handlers import crashing_app_client
from tests.conftest import bearer, login, make_settings, register, running

careless = APIRouter(prefix="/v1/careless")


@careless.post("/rename")
async def rename_without_the_unit_of_work(user: CurrentUser) -> dict[str, str]:
    user.email = "renamed@example.com"  # a bug: nothing commits it
    return {"email": user.email}


@careless.post("/rename-committed")
async def rename_in_the_unit_of_work(user: CurrentUser, session: SessionDep) -> dict[str, str]:
    user.email = "renamed@example.com"
    return {"email": user.email}


plugin = Plugin(name="careless", settings=PluginSettings, routers=[careless])


def test_every_route_that_may_write_runs_in_the_unit_of_work() -> None:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=["totp", "qr_login"]))
    unsafe = [
        route
        for route in iter_route_contexts(app.routes)
        if set(getattr(route, "methods", None) or ()) - {"GET", "HEAD"}
    ]

    assert len(unsafe) > 20
    outside = [route.path_format for route in unsafe if not _depends_on_the_unit_of_work(route)]
    assert outside == []


def _depends_on_the_unit_of_work(route: object) -> bool:
    def walk(dependant: object) -> bool:
        return any(
            sub.call is get_session or walk(sub) for sub in getattr(dependant, "dependencies", ())
        )

    return walk(getattr(route, "dependant", None))


async def test_the_user_a_token_check_loaded_is_the_one_the_unit_of_work_commits(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    settings = make_settings(migrated_database_url, plugins=[f"{__name__}:plugin"])
    async with crashing_app_client(settings) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        response = await client.post("/v1/careless/rename-committed", headers=bearer(token))

    assert response.status_code == 200
    assert await _emails(db_engine) == ["renamed@example.com"]


async def test_a_change_outside_the_unit_of_work_is_discarded_and_said(
    migrated_database_url: str, db_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(migrated_database_url, plugins=[f"{__name__}:plugin"])
    async with crashing_app_client(settings) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        with caplog.at_level(logging.ERROR, logger="app.db.session"):
            response = await client.post("/v1/careless/rename", headers=bearer(token))
        me = await client.get("/v1/users/me", headers=bearer(token))

    assert response.status_code == 200
    assert await _emails(db_engine) == ["ann@example.com"]
    assert me.json()["email"] == "ann@example.com"  # the next request's session: a fresh one
    assert any(
        "POST /v1/careless/rename changed data without the unit of work" in record.getMessage()
        for record in caplog.records
    )


async def test_token_checks_give_back_every_connection(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    app = create_app(make_settings(migrated_database_url))
    async with running(app) as client:
        await register(client, "ann@example.com")
        token = await login(client, "ann@example.com")
        answers = [await client.get("/v1/users/me", headers=bearer(token)) for _ in range(20)]
        forged = await client.get("/v1/users/me", headers=bearer(token + "x"))
        checked_out = app.state.context.engine.sync_engine.pool.checkedout()

    assert {answer.status_code for answer in answers} == {200}
    assert forged.status_code == 401
    assert checked_out == 0


async def _emails(db_engine: AsyncEngine) -> list[str]:
    async with db_engine.connect() as connection:
        return list((await connection.scalars(text("SELECT email FROM users"))).all())
