"""Two-step changes are mailed to the account (over a real SMTP server) once they commit:
what happened, when and from where, never a code or secret; nothing for a failed or
rolled-back change."""

from collections.abc import AsyncIterator, Iterator
from email.message import Message
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.main import create_app
from tests.conftest import PASSWORD, bearer, login, make_settings
from tests.plugins.totp.conftest import Enrolled, enrolled_user
from tests.services.test_notifications import SMTP_SETTINGS, body, settle
from tests.smtp import Inbox, smtp_server

AGENT = "TwoStepNotice/1.0 (laptop)"
CLIENT = f"UTC from 127.0.0.1 ({AGENT})"
TURNED_ON = "Two-step verification was turned on"
TURNED_OFF = "Two-step verification was turned off"
NEW_CODES = "New recovery codes were made for your account"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mailing(client_for: Any, smtp: tuple[Inbox, int]) -> AsyncIterator[AsyncClient]:
    async with client_for(plugins=["totp"], **SMTP_SETTINGS, smtp_port=smtp[1]) as client:
        client.headers["User-Agent"] = AGENT
        yield client


def two_step_mails(inbox: Inbox) -> list[Message]:
    return [m for m in inbox.messages if "Confirm" not in m["Subject"]]


def assert_keeps_secrets(text: str, ann: Enrolled, *codes: str) -> None:
    """None of what signs in: the app's secret, recovery codes (as shown or bare), password."""
    shown = [*ann.recovery_codes, *codes]
    for secret in (ann.secret, PASSWORD, *shown, *(code.replace("-", "") for code in shown)):
        assert secret not in text


async def test_turning_two_step_on_is_mailed_to_the_account(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp

    ann = await enrolled_user(mailing)

    await settle(inbox, 2)  # the registration's confirmation, and this notice
    [notice] = two_step_mails(inbox)
    assert (notice["To"], notice["Subject"]) == (ann.email, TURNED_ON)
    text = body(notice)
    assert f"turned on for your account {ann.email} on " in text and CLIENT in text
    assert "If it wasn't, " in text and "administrator" in text
    assert_keeps_secrets(text, ann)


async def test_turning_two_step_off_is_mailed_to_the_account(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    ann = await enrolled_user(mailing)

    response = await mailing.request(
        "DELETE", "/v1/mfa/totp", json={"current_password": PASSWORD}, headers=bearer(ann.token)
    )

    assert response.status_code == 204
    await settle(inbox, 3)
    notice = two_step_mails(inbox)[-1]
    assert (notice["To"], notice["Subject"]) == (ann.email, TURNED_OFF)
    text = body(notice)
    assert f"turned off for your account {ann.email} on " in text and CLIENT in text
    assert "If it wasn't, someone knows your password: reset it" in text
    assert_keeps_secrets(text, ann)


async def test_an_admin_turning_it_off_is_mailed_to_the_user_not_the_admin(
    mailing: AsyncClient, smtp: tuple[Inbox, int], superuser_token: str
) -> None:
    inbox, _ = smtp
    ann = await enrolled_user(mailing)
    admin = await login(mailing, "root@example.com")

    response = await mailing.delete(f"/v1/users/{ann.user_id}/mfa", headers=bearer(admin))

    assert response.status_code == 204
    await settle(inbox, 3)  # ann's confirmation and two notices (the admin came from the CLI)
    notice = two_step_mails(inbox)[-1]
    assert (notice["To"], notice["Subject"]) == (ann.email, TURNED_OFF)
    text = body(notice)
    assert text.startswith(
        f"An administrator turned off two-step verification for your account {ann.email} on "
    )
    assert "contact the service's administrator" in text
    assert_keeps_secrets(text, ann)


async def test_new_recovery_codes_are_mailed_without_them(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    ann = await enrolled_user(mailing)

    response = await mailing.post(
        "/v1/mfa/recovery-codes", json={"current_password": PASSWORD}, headers=bearer(ann.token)
    )

    assert response.status_code == 200
    await settle(inbox, 3)
    notice = two_step_mails(inbox)[-1]
    assert (notice["To"], notice["Subject"]) == (ann.email, NEW_CODES)
    text = body(notice)
    assert "the earlier ones no longer work" in text and CLIENT in text
    assert "If it wasn't, someone knows your password" in text
    assert_keeps_secrets(text, ann, *response.json()["recovery_codes"])


async def test_a_refused_turn_off_sends_no_notice(
    mailing: AsyncClient, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    ann = await enrolled_user(mailing)

    response = await mailing.request(
        "DELETE",
        "/v1/mfa/totp",
        json={"current_password": "not my password"},
        headers=bearer(ann.token),
    )

    assert response.status_code == 400
    await settle(inbox, 2)
    assert [m["Subject"] for m in two_step_mails(inbox)] == [TURNED_ON]


async def test_a_rolled_back_turn_off_sends_no_notice(
    mailing: AsyncClient, smtp: tuple[Inbox, int], migrated_database_url: str
) -> None:
    inbox, port = smtp
    ann = await enrolled_user(mailing)
    settings = make_settings(
        migrated_database_url,
        **SMTP_SETTINGS,
        smtp_port=port,
        plugins=["totp", "tests.plugins.totp.vetoing"],
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.request(
                "DELETE",
                "/v1/mfa/totp",
                json={"current_password": PASSWORD},
                headers=bearer(ann.token),
            )
            status = await client.get("/v1/mfa", headers=bearer(ann.token))

    assert response.status_code == 500
    assert status.json()["totp"] is True  # the change really was undone
    await settle(inbox, 2)
    assert [m["Subject"] for m in two_step_mails(inbox)] == [TURNED_ON]
