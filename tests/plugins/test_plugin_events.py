from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from tests.conftest import PASSWORD, make_settings


async def test_a_failing_event_handler_undoes_the_registration(
    migrated_database_url: str, db_engine: AsyncEngine
) -> None:
    app = create_app(make_settings(migrated_database_url, plugins=["tests.plugins.failing"]))
    async with LifespanManager(app) as manager:
        # Answer the way a server does, instead of raising the handler's error here.
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
            )

    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "refused" not in response.text  # no internals reach the client
    async with db_engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM users")) == 0
