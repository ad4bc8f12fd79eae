"""Password reset and email verification, with mail delivered to a real SMTP server."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.events import EventType, SecurityEvent
from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings, register, running
from tests.live_server import free_port
from tests.smtp import Inbox, smtp_server


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mail_client(client_for: Any, inbox: tuple[Inbox, int]) -> Any:
    _, port = inbox
    async with client_for(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        public_url="https://accounts.example.com",
    ) as client:
        yield client


async def test_registration_sends_a_confirmation_link_that_verifies_the_email(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")

    [message] = await mailbox.wait_for(1)
    assert message["To"] == "ann@example.com"
    token = mailbox.link_token(message, "https://accounts.example.com/verify-email")
    response = await mail_client.post("/v1/users/verify", json={"token": token})

    assert response.status_code == 200
    assert response.json()["is_verified"] is True
    access = await login(mail_client, "ann@example.com")
    me = await mail_client.get("/v1/users/me", headers=bearer(access))
    assert me.json()["is_verified"] is True


async def test_a_verification_link_for_a_previous_email_no_longer_works(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    [first] = await mailbox.wait_for(1)
    old_token = mailbox.link_token(first, "/verify-email")
    access = await login(mail_client, "ann@example.com")

    await mail_client.patch(
        "/v1/users/me",
        headers=bearer(access),
        json={"email": "ann@new.example.com", "current_password": PASSWORD},
    )
    # The confirmation link to the new address, and a notice to the old one.
    [confirmation] = [m for m in await mailbox.wait_for(3) if m["To"] == "ann@new.example.com"]
    stale = await mail_client.post("/v1/users/verify", json={"token": old_token})
    fresh = await mail_client.post(
        "/v1/users/verify", json={"token": mailbox.link_token(confirmation, "/verify-email")}
    )

    assert stale.status_code == 400
    assert stale.json()["code"] == "VERIFY_USER_BAD_TOKEN"
    assert fresh.status_code == 200 and fresh.json()["is_verified"] is True


async def test_forgot_password_mails_a_single_use_link_that_ends_every_session(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    old_session = await login(mail_client, "ann@example.com")

    response = await mail_client.post(
        "/v1/users/forgot-password", json={"email": "ANN@example.com"}
    )
    messages = await mailbox.wait_for(2)  # the confirmation mail, then the reset mail
    token = mailbox.link_token(messages[1], "https://accounts.example.com/reset-password")
    reset = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "a fresh new password"}
    )
    again = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "yet another password"}
    )

    assert response.status_code == 202
    assert messages[1]["Subject"] == "Reset your password"
    assert reset.status_code == 204
    assert again.status_code == 400
    assert again.json()["code"] == "RESET_PASSWORD_BAD_TOKEN"
    assert (await mail_client.get("/v1/users/me", headers=bearer(old_session))).status_code == 401
    await login(mail_client, "ann@example.com", "a fresh new password")
    old = await mail_client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert old.status_code == 400


async def test_forgot_password_answers_the_same_for_unknown_emails_and_sends_nothing(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    await mailbox.wait_for(1)

    known = await mail_client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    unknown = await mail_client.post(
        "/v1/users/forgot-password", json={"email": "nobody@example.com"}
    )
    await mailbox.wait_for(2)
    await asyncio.sleep(0.3)

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert [m["To"] for m in mailbox.messages] == ["ann@example.com", "ann@example.com"]


async def test_reset_with_a_weak_password_is_refused_and_the_link_still_works(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    await mail_client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    token = mailbox.link_token((await mailbox.wait_for(2))[1], "/reset-password")

    weak = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "ann@example.com 2"}
    )
    good = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "long enough now"}
    )

    assert weak.status_code == 400
    assert weak.json()["code"] == "RESET_PASSWORD_INVALID_PASSWORD"
    assert "email" in weak.json()["message"]
    assert good.status_code == 204


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_malformed_link_tokens_are_a_400(client: AsyncClient, token: str) -> None:
    reset = await client.post(
        "/v1/users/reset-password", json={"token": token, "password": "long enough now"}
    )
    verify = await client.post("/v1/users/verify", json={"token": token})

    assert (reset.status_code, reset.json()["code"]) == (400, "RESET_PASSWORD_BAD_TOKEN")
    assert (verify.status_code, verify.json()["code"]) == (400, "VERIFY_USER_BAD_TOKEN")


async def test_link_tokens_are_not_access_tokens_and_not_interchangeable(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    verify_token = mailbox.link_token((await mailbox.wait_for(1))[0], "/verify-email")

    as_access = await mail_client.get("/v1/users/me", headers=bearer(verify_token))
    as_reset = await mail_client.post(
        "/v1/users/reset-password", json={"token": verify_token, "password": "long enough now"}
    )

    assert as_access.status_code == 401
    assert as_reset.status_code == 400


async def test_an_unreachable_mail_server_does_not_fail_the_request(client_for: Any) -> None:
    async with client_for(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none"
    ) as client:
        registered = await client.post(
            "/v1/users/", json={"email": "ann@example.com", "password": PASSWORD}
        )
        forgot = await client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})

    assert registered.status_code == 201
    assert forgot.status_code == 202


async def test_resending_the_confirmation_mail(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    access = await login(mail_client, "ann@example.com")

    response = await mail_client.post("/v1/users/me/verification-email", headers=bearer(access))

    assert response.status_code == 202
    messages = await mailbox.wait_for(2)
    assert [m["Subject"] for m in messages] == ["Confirm your email address"] * 2


async def reset_link(mail_client: AsyncClient, mailbox: Inbox, email: str) -> str:
    """Register `email` and return the reset link's token mailed to it."""
    await register(mail_client, email)
    await mail_client.post("/v1/users/forgot-password", json={"email": email})
    return mailbox.link_token((await mailbox.wait_for(2))[1], "/reset-password")


async def test_a_reset_link_stops_working_once_the_email_changes(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    token = await reset_link(mail_client, mailbox, "ann@example.com")
    access = await login(mail_client, "ann@example.com")
    changed = await mail_client.patch(
        "/v1/users/me",
        headers=bearer(access),
        json={"email": "ann@new.example.com", "current_password": PASSWORD},
    )

    reset = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "taken over now"}
    )

    assert changed.status_code == 200
    assert (reset.status_code, reset.json()["code"]) == (400, "RESET_PASSWORD_BAD_TOKEN")
    await login(mail_client, "ann@new.example.com")  # the password is still the owner's


async def test_one_reset_link_used_by_concurrent_requests_resets_exactly_once(
    mail_client: AsyncClient, inbox: tuple[Inbox, int]
) -> None:
    mailbox, _ = inbox
    token = await reset_link(mail_client, mailbox, "ann@example.com")
    passwords = [f"new password number {n}" for n in range(10)]

    answers = await asyncio.gather(
        *(
            mail_client.post(
                "/v1/users/reset-password", json={"token": token, "password": password}
            )
            for password in passwords
        )
    )

    statuses = [answer.status_code for answer in answers]
    assert sorted(statuses) == [204] + [400] * 9, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 400} == {
        "RESET_PASSWORD_BAD_TOKEN"
    }
    winner = passwords[statuses.index(204)]
    await login(mail_client, "ann@example.com", winner)
    for loser in (p for p in passwords if p != winner):
        refused = await mail_client.post(
            "/v1/users/login", json={"email": "ann@example.com", "password": loser}
        )
        assert refused.status_code == 400


async def test_a_reset_request_for_a_known_email_writes_nothing_before_the_answer(
    migrated_database_url: str, db_engine: Any
) -> None:
    # The audit row (an INSERT and a COMMIT) made known emails measurably slower to
    # answer than unknown ones: it is now written after the answer is sent.
    app = create_app(make_settings(migrated_database_url))
    seen: list[str] = []

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                seen.append("answered")

        await app(scope, receive, watch)

    async def recorded(event: SecurityEvent, _: Any) -> None:
        seen.append(f"recorded {event.type}")

    async with running(wrapped) as client:  # type: ignore[arg-type]
        app.state.context.events.subscribe(EventType.PASSWORD_RESET_REQUESTED, recorded)
        await register(client, "ann@example.com")
        known = await client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})

    assert known.status_code == 202
    assert seen[-2:] == ["answered", "recorded password_reset_requested"]
