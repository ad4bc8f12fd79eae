"""/metrics: who may scrape it, and that the counters follow what the service does."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.main import create_app
from tests.conftest import PASSWORD, register
from tests.observability.conftest import metric_value

METRICS_TOKEN = "scrape-me-" + "s" * 32
OUTSIDER = "203.0.113.7"  # a documentation address: not loopback
PROMETHEUS_TEXT = "text/plain"  # the exposition format


@asynccontextmanager
async def app_clients(settings: Settings, **overrides: Any) -> AsyncIterator[dict[str, Any]]:
    """One running app; clients from loopback and from an outside address."""
    app = create_app(settings.model_copy(update=overrides))
    async with LifespanManager(app) as manager:
        clients = {
            name: AsyncClient(
                transport=ASGITransport(app=manager.app, client=(address, 40000)),
                base_url="http://testserver",
            )
            for name, address in (("local", "127.0.0.1"), ("outside", OUTSIDER))
        }
        try:
            yield {**clients, "app": app}
        finally:
            for client in clients.values():
                await client.aclose()


async def scrape(client: AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


async def test_loopback_clients_may_scrape(client: AsyncClient) -> None:
    response = await client.get("/metrics")  # the test transport's client is 127.0.0.1

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(PROMETHEUS_TEXT)
    assert "# TYPE http_request_duration_seconds histogram" in response.text
    assert "auth_logins_total" in response.text


async def test_others_get_404_without_or_with_a_wrong_token_and_200_with_it(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with app_clients(settings, metrics_token=SecretStr(METRICS_TOKEN)) as clients:
        outside: AsyncClient = clients["outside"]
        without = await outside.get("/metrics")
        wrong = await outside.get("/metrics", headers={"Authorization": "Bearer nope"})
        wrong_scheme = await outside.get("/metrics", headers={"Authorization": METRICS_TOKEN})
        right = await outside.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    for refused in (without, wrong, wrong_scheme):
        assert refused.status_code == 404
        assert refused.json()["code"] == "NOT_FOUND"  # the same answer as an unknown path
    assert right.status_code == 200
    assert "auth_logins_total" in right.text


async def test_without_a_token_configured_only_loopback_may_scrape(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    async with app_clients(settings) as clients:
        outside = await clients["outside"].get(
            "/metrics", headers={"Authorization": "Bearer ", "Accept": "text/html"}
        )
        local = await clients["local"].get("/metrics")

    # JSON, not the frontend's index.html (a browser asking for the page).
    assert outside.status_code == 404 and outside.json()["code"] == "NOT_FOUND"
    assert local.status_code == 200


@pytest.mark.parametrize(
    "forwarding",
    [
        {"X-Forwarded-For": OUTSIDER},
        {"Forwarded": f"for={OUTSIDER}"},
        # nginx's common `proxy_set_header X-Real-IP $remote_addr` sends only this one.
        {"X-Real-IP": OUTSIDER},
        {"X-Forwarded-Host": "auth.example.com"},
        {"X-Forwarded-Proto": "https"},
        {"Via": "1.1 proxy"},
    ],
)
async def test_a_request_forwarded_by_a_local_proxy_is_not_a_loopback_client(
    client: AsyncClient, forwarding: dict[str, str]
) -> None:
    response = await client.get("/metrics", headers=forwarding)

    assert response.status_code == 404


async def test_metrics_are_not_in_the_openapi_schema(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    assert "/metrics" not in schema["paths"]


async def test_login_counters_move_with_failed_and_successful_logins(client: AsyncClient) -> None:
    await register(client, "dora@example.com")
    before = await scrape(client)

    bad = await client.post(
        "/v1/users/login", json={"email": "dora@example.com", "password": "not it at all"}
    )
    unknown = await client.post(
        "/v1/users/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    good = await client.post(
        "/v1/users/login", json={"email": "dora@example.com", "password": PASSWORD}
    )
    after = await scrape(client)

    assert (bad.status_code, unknown.status_code, good.status_code) == (400, 400, 200)

    def moved(sample: str, **labels: str) -> float:
        return metric_value(after, sample, **labels) - metric_value(before, sample, **labels)

    assert moved("auth_logins_total", outcome="bad_credentials") == 2
    assert moved("auth_logins_total", outcome="success") == 1
    assert moved("auth_logins_total", outcome="rate_limited") == 0
    # Three verifications waited for a hashing thread (however briefly).
    assert moved("auth_password_hash_queue_wait_seconds_count") == 3
    latency = {"method": "POST", "route": "/v1/users/login"}
    assert moved("http_request_duration_seconds_count", status="400", **latency) == 2
    assert moved("http_request_duration_seconds_count", status="200", **latency) == 1


async def test_inactive_and_rate_limited_logins_are_counted_apart(
    settings: Settings, db_engine: AsyncEngine, superuser_token: str, client: AsyncClient
) -> None:
    user = await register(client, "eve@example.com")
    await client.patch(
        f"/v1/users/{user['id']}",
        json={"is_active": False},
        headers={"Authorization": f"Bearer {superuser_token}"},
    )
    async with app_clients(
        settings, rate_limits_enabled=True, rate_limit_login_failures="2/minute"
    ) as clients:
        local: AsyncClient = clients["local"]
        before = await scrape(local)
        statuses = [
            (
                await local.post(
                    "/v1/users/login", json={"email": "eve@example.com", "password": PASSWORD}
                )
            ).status_code
            for _ in range(3)
        ]
        after = await scrape(local)

    assert statuses == [400, 400, 429]

    def moved(outcome: str) -> float:
        sample = "auth_logins_total"
        return metric_value(after, sample, outcome=outcome) - metric_value(
            before, sample, outcome=outcome
        )

    assert (moved("inactive"), moved("rate_limited"), moved("success")) == (2, 1, 0)


async def test_refresh_reuse_is_counted(client_for: Callable[..., Any]) -> None:
    async with client_for(refresh_reuse_grace_seconds=0) as client:
        await register(client, "fay@example.com")
        tokens = (
            await client.post(
                "/v1/users/login", json={"email": "fay@example.com", "password": PASSWORD}
            )
        ).json()
        rotated = await client.post(
            "/v1/users/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        before = await scrape(client)
        reused = await client.post(
            "/v1/users/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        after = await scrape(client)

    assert (rotated.status_code, reused.status_code) == (200, 401)
    sample = "auth_refresh_token_reuse_detections_total"
    assert metric_value(after, sample) - metric_value(before, sample) == 1


async def test_rate_limit_store_errors_are_counted(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    unreachable = "redis://127.0.0.1:9"  # the discard port: nothing listens there
    async with app_clients(
        settings, rate_limits_enabled=True, rate_limit_storage_url=unreachable
    ) as clients:
        local: AsyncClient = clients["local"]
        before = await scrape(local)
        response = await local.post(
            "/v1/users/login", json={"email": "gil@example.com", "password": PASSWORD}
        )
        after = await scrape(local)

    assert response.status_code == 400  # the limiter failed open
    sample = "auth_rate_limit_store_errors_total"
    assert metric_value(after, sample) - metric_value(before, sample) >= 1


async def test_db_pool_gauge_counts_checked_out_connections(
    settings: Settings, db_engine: AsyncEngine
) -> None:
    sample = "auth_db_pool_connections_in_use"
    async with app_clients(settings) as clients:
        local: AsyncClient = clients["local"]
        engine = clients["app"].state.context.engine
        idle = metric_value(await scrape(local), sample)
        async with engine.connect(), engine.connect():
            busy = metric_value(await scrape(local), sample)
        after = metric_value(await scrape(local), sample)

    assert busy - idle == 2
    assert after == idle
