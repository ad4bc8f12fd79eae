"""Security notices by mail, over a real SMTP server: after the change commits, never for
one that rolled back or an attempt that failed."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from email.message import Message
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import create_superuser
from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register
from tests.smtp import Inbox, smtp_server

AGENT = "NoticeTest/2.0 (phone)"
NEW_PASSWORD = "a fresh new password"
SMTP_SETTINGS = {"smtp_host": "127.0.0.1", "smtp_security": "none"}


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mailing(client_for: Any, smtp: tuple[Inbox, int]) -> AsyncIterator[AsyncClient]:
    async with client_for(
        **SMTP_SETTINGS, smtp_port=smtp[1], public_url="https://accounts.example.com"
    ) as client:
        client.headers["User-Agent"] = AGENT
        yield client


def body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def settle(inbox: Inbox, count: int) -> list[Message]:
    """The `count` mails expected, after making sure no more arrive."""
    messages = await inbox.wait_for(count)
    await asyncio.sleep(0.5)
    assert len(inbox.messages) == count, [m["Subject"] for m in inbox.messages]
    return messages


def notices(inbox: Inbox) -> list[Message]:
    return [m for m in inbox.messages if "changed" in m["Subject"]]


async def test_an_email_change_is_announced_to_the_old_address_with_time_and_client(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    await register(mailing, "ann@example.com")
    token = await login(mailing, "ann@example.com")

    response = await mailing.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"email": "ann@new.example.com", "current_password": PASSWORD},
    )

    assert response.status_code == 200
    await settle(inbox, 3)  # confirmation at registration, this notice, the new confirmation
    [notice] = notices(inbox)
    assert notice["To"] == "ann@example.com"
    assert notice["Subject"] == "Your account's email address was changed"
    text = body(notice)
    assert "ann@new.example.com" in text
    assert "UTC from 127.0.0.1 (NoticeTest/2.0 (phone))" in text
    assert [m["To"] for m in inbox.messages if "Confirm" in m["Subject"]] == [
        "ann@example.com",
        "ann@new.example.com",
    ]


async def test_a_password_change_is_announced_to_the_account(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    await register(mailing, "ann@example.com")
    token = await login(mailing, "ann@example.com")

    response = await mailing.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"password": NEW_PASSWORD, "current_password": PASSWORD},
    )

    assert response.status_code == 200
    await settle(inbox, 2)
    [notice] = notices(inbox)
    assert (notice["To"], notice["Subject"]) == ("ann@example.com", "Your password was changed")
    text = body(notice)
    assert "was changed on" in text and "127.0.0.1" in text and AGENT in text
    assert "https://accounts.example.com/forgot-password" in text
    assert NEW_PASSWORD not in text and PASSWORD not in text


async def test_a_password_reset_is_announced_to_the_account(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    await register(mailing, "ann@example.com")
    await mailing.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    token = inbox.link_token((await inbox.wait_for(2))[1], "/reset-password")

    response = await mailing.post(
        "/v1/users/reset-password", json={"token": token, "password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    await settle(inbox, 3)
    [notice] = notices(inbox)
    assert notice["To"] == "ann@example.com"
    assert "was reset with an emailed link" in body(notice)


async def test_an_admin_setting_a_password_is_announced_too(
    mailing: AsyncClient, smtp: tuple[Inbox, int], migrated_database_url: str
) -> None:
    inbox, _ = smtp
    ann = await register(mailing, "ann@example.com")
    await create_superuser(make_settings(migrated_database_url), "root@example.com", PASSWORD)
    admin = await login(mailing, "root@example.com")

    response = await mailing.patch(
        f"/v1/users/{ann['id']}", headers=bearer(admin), json={"password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    await inbox.wait_for(2)
    assert [m["To"] for m in notices(inbox)] == ["ann@example.com"]


async def test_a_failed_change_sends_no_notice(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    await register(mailing, "ann@example.com")
    token = await login(mailing, "ann@example.com")

    response = await mailing.patch(
        "/v1/users/me",
        headers=bearer(token),
        json={"email": "ann@new.example.com", "current_password": "not my password"},
    )

    assert response.status_code == 400
    await settle(inbox, 1)  # only the registration's confirmation
    assert notices(inbox) == []


async def test_a_rolled_back_password_change_sends_no_notice(
    mailing: AsyncClient,
    smtp: tuple[Inbox, int],
    migrated_database_url: str,
    db_engine: AsyncEngine,
) -> None:
    inbox, port = smtp
    await register(mailing, "ann@example.com")
    await inbox.wait_for(1)
    settings = make_settings(
        migrated_database_url, **SMTP_SETTINGS, smtp_port=port, plugins=["tests.plugins.vetoing"]
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            token = await login(client, "ann@example.com")
            response = await client.patch(
                "/v1/users/me",
                headers=bearer(token),
                json={"password": NEW_PASSWORD, "current_password": PASSWORD},
            )

    assert response.status_code == 500
    await settle(inbox, 1)
    assert notices(inbox) == []
    await login(mailing, "ann@example.com", PASSWORD)  # the change really was undone
