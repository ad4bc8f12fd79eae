"""Superusers: a user's last sign-in, their sessions (see and end them), a reset-link mail."""

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from httpx import AsyncClient

from app.cli import create_superuser
from tests.conftest import PASSWORD, bearer, login, register
from tests.smtp import Inbox, smtp_server

USERS = "/v1/users/"


async def admin_and_ann(client: AsyncClient, settings: Any) -> tuple[str, str]:
    """A superuser's token and the id of ann, a plain user."""
    await create_superuser(settings, "root@example.com", PASSWORD)
    ann_id: str = (await register(client, "ann@example.com"))["id"]
    return await login(client, "root@example.com"), ann_id


async def audit(client: AsyncClient, admin: str, user_id: str, type: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/audit-events", params={"user_id": user_id, "type": type}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_last_login_is_null_until_the_user_signs_in_then_the_latest(
    client: AsyncClient, superuser_token: str
) -> None:
    await register(client, "ann@example.com")
    headers = bearer(superuser_token)

    def ann_of(page: dict[str, Any]) -> dict[str, Any]:
        found: list[dict[str, Any]] = page["items"]
        [ann] = [item for item in found if item["email"] == "ann@example.com"]
        return ann

    before = ann_of((await client.get(USERS, headers=headers)).json())
    await login(client, "ann@example.com")
    first = ann_of((await client.get(USERS, headers=headers)).json())["last_login_at"]
    await login(client, "ann@example.com")
    second = ann_of((await client.get(USERS, headers=headers)).json())["last_login_at"]

    assert before["last_login_at"] is None
    assert first is not None and datetime.fromisoformat(second) > datetime.fromisoformat(first)
    fetched = await client.get(f"/v1/users/{before['id']}", headers=headers)
    assert fetched.json()["last_login_at"] == second


async def test_last_login_outlives_the_session_it_came_from(
    client: AsyncClient, superuser_token: str
) -> None:
    ann_id = (await register(client, "ann@example.com"))["id"]
    token = await login(client, "ann@example.com")
    await client.post("/v1/users/logout", headers=bearer(token))

    fetched = await client.get(f"/v1/users/{ann_id}", headers=bearer(superuser_token))

    assert fetched.json()["last_login_at"] is not None


async def test_superuser_lists_a_users_live_sessions(client: AsyncClient, settings: Any) -> None:
    admin, ann_id = await admin_and_ann(client, settings)
    ann = await login(client, "ann@example.com")
    await client.post(
        "/v1/users/login",
        json={"email": "ann@example.com", "password": PASSWORD},
        headers={"User-Agent": "curl/8.4.0"},
    )
    ended = (await client.get("/v1/users/me/sessions", headers=bearer(ann))).json()
    await client.delete(f"/v1/users/me/sessions/{ended[0]['id']}", headers=bearer(ann))

    response = await client.get(f"/v1/users/{ann_id}/sessions", headers=bearer(admin))

    assert response.status_code == 200
    [live] = response.json()
    assert live["id"] != ended[0]["id"]
    assert live["current"] is False and live["method"] == "password"
    assert {"device", "name", "ip_address", "last_used_at"} <= set(live)


async def test_superuser_ends_all_of_a_users_sessions_and_it_is_audited(
    client: AsyncClient, settings: Any
) -> None:
    admin, ann_id = await admin_and_ann(client, settings)
    tokens = [await login(client, "ann@example.com") for _ in range(2)]

    response = await client.delete(f"/v1/users/{ann_id}/sessions", headers=bearer(admin))

    assert response.status_code == 204
    for token in tokens:
        assert (await client.get("/v1/users/me", headers=bearer(token))).status_code == 401
    listed = await client.get(f"/v1/users/{ann_id}/sessions", headers=bearer(admin))
    assert listed.json() == []
    admin_id = (await client.get("/v1/users/me", headers=bearer(admin))).json()["id"]
    [event] = await audit(client, admin, ann_id, "session_revoked")
    assert event["actor_id"] == admin_id
    assert event["detail"] == {"all": True, "count": 2}
    assert (await client.get("/v1/users/me", headers=bearer(admin))).status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", "sessions"), ("DELETE", "sessions"), ("POST", "reset-password-email")],
)
async def test_user_session_admin_routes_need_a_superuser(
    client: AsyncClient, settings: Any, method: str, suffix: str
) -> None:
    _, ann_id = await admin_and_ann(client, settings)
    ann = await login(client, "ann@example.com")
    url = f"/v1/users/{ann_id}/{suffix}"

    anonymous = await client.request(method, url)
    as_ann = await client.request(method, url, headers=bearer(ann))

    assert anonymous.status_code == 401
    assert as_ann.status_code == 403
    assert (await client.get("/v1/users/me", headers=bearer(ann))).status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", "sessions"), ("DELETE", "sessions"), ("POST", "reset-password-email")],
)
async def test_user_session_admin_routes_for_an_unknown_user_are_404(
    client: AsyncClient, superuser_token: str, method: str, suffix: str
) -> None:
    response = await client.request(
        method, f"/v1/users/{uuid.uuid4()}/{suffix}", headers=bearer(superuser_token)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "USER_NOT_FOUND"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mail_client(
    client_for: Callable[..., Any], inbox: tuple[Inbox, int]
) -> AsyncIterator[AsyncClient]:
    async with client_for(
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_security="none",
        public_url="https://accounts.example.com",
    ) as client:
        yield client


async def test_superuser_sends_a_working_reset_link_and_it_is_audited(
    mail_client: AsyncClient, inbox: tuple[Inbox, int], settings: Any
) -> None:
    mailbox, _ = inbox
    admin, ann_id = await admin_and_ann(mail_client, settings)
    await mailbox.wait_for(1)  # ann's registration confirmation
    mailbox.messages.clear()

    response = await mail_client.post(
        f"/v1/users/{ann_id}/reset-password-email", headers=bearer(admin)
    )

    assert response.status_code == 202
    assert "ann@example.com" in response.json()["message"]
    [message] = await mailbox.wait_for(1)
    assert message["To"] == "ann@example.com"
    token = mailbox.link_token(message, "/reset-password")
    reset = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "a brand new secret"}
    )
    assert reset.status_code == 204
    admin_id = (await mail_client.get("/v1/users/me", headers=bearer(admin))).json()["id"]
    [event] = await audit(mail_client, admin, ann_id, "password_reset_requested")
    assert event["actor_id"] == admin_id


async def test_no_reset_mail_for_a_deactivated_account(client: AsyncClient, settings: Any) -> None:
    admin, ann_id = await admin_and_ann(client, settings)
    await client.patch(f"/v1/users/{ann_id}", json={"is_active": False}, headers=bearer(admin))

    response = await client.post(f"/v1/users/{ann_id}/reset-password-email", headers=bearer(admin))

    assert response.status_code == 409
    assert response.json()["code"] == "ADMIN_USER_INACTIVE"


async def test_admin_reset_mails_share_the_forgot_password_limit(
    client_for: Callable[..., Any], settings: Any
) -> None:
    limited = client_for(
        rate_limits_enabled=True,
        rate_limit_per_address="1000/minute",
        rate_limit_registrations="1000/hour",
        rate_limit_emails="2/hour",
    )
    async with limited as client:
        admin, ann_id = await admin_and_ann(client, settings)
        url = f"/v1/users/{ann_id}/reset-password-email"

        statuses = [(await client.post(url, headers=bearer(admin))).status_code for _ in range(3)]

    # Ann's registration confirmation used the first of the two mails.
    assert statuses == [202, 429, 429]


async def test_verified_flag_toggles_both_ways_and_each_change_is_audited(
    client: AsyncClient, settings: Any
) -> None:
    admin, ann_id = await admin_and_ann(client, settings)
    url = f"/v1/users/{ann_id}"

    on = await client.patch(url, json={"is_verified": True}, headers=bearer(admin))
    off = await client.patch(url, json={"is_verified": False}, headers=bearer(admin))

    assert (on.json()["is_verified"], off.json()["is_verified"]) == (True, False)
    assert (await client.get(url, headers=bearer(admin))).json()["is_verified"] is False
    assert len(await audit(client, admin, ann_id, "admin_user_updated")) == 2
