"""Mail limits: no one floods an inbox, and no stranger uses up someone else's allowance.

Requests come from several client addresses at once (one ASGI transport per address),
and mail goes to a real SMTP server on 127.0.0.1.
"""

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register
from tests.smtp import Inbox, smtp_server

FORGOT = "/v1/users/forgot-password"
STRANGER, OWNER = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def clients_from(
    migrated_database_url: str, db_engine: AsyncEngine, inbox: tuple[Inbox, int]
) -> Callable[..., Any]:
    """`async with clients_from(addresses, **limits) as clients:` one client per address,
    all talking to one app with the limits on (each test gets a fresh memory store)."""

    @asynccontextmanager
    async def factory(addresses: list[str], **limits: object) -> AsyncIterator[list[AsyncClient]]:
        settings = make_settings(
            migrated_database_url,
            rate_limits_enabled=True,
            rate_limit_per_address="1000/minute",
            rate_limit_registrations="1000/hour",
            smtp_host="127.0.0.1",
            smtp_port=inbox[1],
            smtp_security="none",
            **limits,
        )
        async with LifespanManager(create_app(settings)) as manager, AsyncExitStack() as stack:
            clients = []
            for address in addresses:
                transport = ASGITransport(app=manager.app, client=(address, 40000))
                client = AsyncClient(transport=transport, base_url="http://testserver")
                clients.append(await stack.enter_async_context(client))
            yield clients

    return factory


def unique_email() -> str:
    return f"user-{secrets.token_hex(4)}@example.com"


def recipients(mailbox: Inbox) -> list[str]:
    return [str(message["To"]) for message in mailbox.messages]


async def forgot(client: AsyncClient, email: str) -> int:
    response = await client.post(FORGOT, json={"email": email})
    return response.status_code


async def test_a_stranger_asking_for_resets_cannot_block_the_owners_reset(
    clients_from: Callable[..., Any], inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    victim = unique_email()
    async with clients_from([STRANGER, OWNER], rate_limit_emails="3/hour") as (stranger, owner):
        await register(owner, victim)
        await mailbox.wait_for(1)  # the confirmation mail
        from_stranger = [await forgot(stranger, victim) for _ in range(4)]
        from_owner = await forgot(owner, victim)
        await mailbox.wait_for(5)

    assert from_stranger == [202, 202, 202, 429]
    assert from_owner == 202
    assert recipients(mailbox) == [victim] * 5


async def test_one_address_cannot_send_mail_to_many_recipients_without_limit(
    clients_from: Callable[..., Any],
) -> None:
    async with clients_from([STRANGER], rate_limit_emails_per_address="3/hour") as (client,):
        statuses = [await forgot(client, unique_email()) for _ in range(4)]

    assert statuses == [202, 202, 202, 429]


async def test_many_addresses_together_cannot_flood_one_inbox(
    clients_from: Callable[..., Any], inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    victim = unique_email()
    addresses = [f"192.0.2.{n}" for n in range(1, 7)]
    async with clients_from(addresses, rate_limit_emails_per_recipient="4/hour") as clients:
        await register(clients[0], victim)  # one confirmation mail: 1 of the 4
        statuses = [await forgot(client, victim) for client in clients[1:]]
        await mailbox.wait_for(4)

    assert statuses == [202, 202, 202, 429, 429]
    assert recipients(mailbox) == [victim] * 4


async def test_a_limited_reset_request_answers_the_same_for_unknown_and_known_emails(
    clients_from: Callable[..., Any],
) -> None:
    known, unknown = unique_email(), unique_email()
    async with clients_from([STRANGER], rate_limit_emails="1/hour") as (client,):
        await register(client, known)  # its confirmation mail is the one allowed
        known_answers = [await client.post(FORGOT, json={"email": known}) for _ in range(2)]
        unknown_answers = [await client.post(FORGOT, json={"email": unknown}) for _ in range(2)]

    assert [r.status_code for r in known_answers] == [429, 429]
    assert [r.status_code for r in unknown_answers] == [202, 429]
    assert known_answers[1].json() == unknown_answers[1].json()


async def change_email(client: AsyncClient, token: str, email: str) -> Response:
    return await client.patch(
        "/v1/users/me", headers=bearer(token), json={"email": email, "current_password": PASSWORD}
    )


async def test_email_changes_cannot_flood_an_address_with_confirmation_mails(
    clients_from: Callable[..., Any], inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    own, victim = unique_email(), unique_email()
    async with clients_from([STRANGER], rate_limit_emails="2/hour") as (client,):
        await register(client, own)
        token = await login(client, own)
        statuses, elsewhere = [], ""
        for _ in range(3):
            statuses.append((await change_email(client, token, victim)).status_code)
            elsewhere = unique_email()
            statuses.append((await change_email(client, token, elsewhere)).status_code)
        me = await client.get("/v1/users/me", headers=bearer(token))
        # 6 confirmations, and 5 notices to the addresses the account left (see
        # tests/services/test_notifications.py): only a confirmed change away can cause those.
        await mailbox.wait_for(11)

    assert statuses == [200, 200, 200, 200, 429, 200]
    assert me.json()["email"] == elsewhere
    confirmations = [m for m in mailbox.messages if m["Subject"] == "Confirm your email address"]
    assert [m["To"] for m in confirmations].count(victim) == 2


async def test_one_address_cannot_register_accounts_for_many_inboxes_without_limit(
    clients_from: Callable[..., Any],
) -> None:
    async with clients_from([STRANGER], rate_limit_emails_per_address="2/hour") as (client,):
        statuses = [
            (
                await client.post(
                    "/v1/users/", json={"email": unique_email(), "password": PASSWORD}
                )
            ).status_code
            for _ in range(3)
        ]

    assert statuses == [201, 201, 429]


async def test_the_registration_mail_counts_towards_the_resend_allowance(
    clients_from: Callable[..., Any],
) -> None:
    email = unique_email()
    async with clients_from([STRANGER], rate_limit_emails="2/hour") as (client,):
        await register(client, email)
        token = await login(client, email)
        resends = [
            (
                await client.post("/v1/users/me/verification-email", headers=bearer(token))
            ).status_code
            for _ in range(2)
        ]

    assert resends == [202, 429]
