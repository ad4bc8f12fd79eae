"""Every endpoint that sets a password refuses weak ones with its own code and a reason."""

from typing import Any

import pytest
from httpx import AsyncClient

from app.cli import create_superuser
from app.core.config import Settings
from app.core.errors import InvalidPassword
from tests.api.v1.users.test_email_links import inbox, mail_client  # noqa: F401
from tests.conftest import PASSWORD, bearer, login, register
from tests.smtp import Inbox

REGISTER = "/v1/users/"
ME = "/v1/users/me"


async def _login_status(client: AsyncClient, email: str, password: str) -> int:
    response = await client.post("/v1/users/login", json={"email": email, "password": password})
    return response.status_code


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "common"),
        ("iloveyou2", "common"),
        ("ann.smith1990", "contains_email"),
        ("Auth service 2024", "contains_service_name"),
        ("\u200b" * 10, "invisible"),
        ("\x00" * 10, "invisible"),
        ("abcdefghijklmn", "too_guessable"),
        # The schema's character bounds pass these; the policy's own measures don't.
        ("Xk9#m" + "\u200b" * 4, "too_short"),  # zero-width spaces don't count
        ("😀" * 19, "too_long"),  # 19 characters, 76 bytes
    ],
)
async def test_register_refuses_a_weak_password_with_a_machine_readable_reason(
    client: AsyncClient, password: str, reason: str
) -> None:
    response = await client.post(
        REGISTER, json={"email": "ann.smith@example.com", "password": password}
    )

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "message", "reason"}
    assert body["code"] == "REGISTER_INVALID_PASSWORD"
    assert body["reason"] == reason
    assert body["message"].endswith(".")
    assert await _login_status(client, "ann.smith@example.com", password) == 400


async def test_update_me_refuses_a_common_password_and_keeps_the_old_one(
    client: AsyncClient, user_token: str
) -> None:
    response = await client.patch(
        ME,
        json={"password": "qwertyuiop", "current_password": PASSWORD},
        headers=bearer(user_token),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_INVALID_PASSWORD"
    assert response.json()["reason"] == "common"
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


async def test_update_me_refuses_a_password_built_from_the_new_email(
    client: AsyncClient, user_token: str
) -> None:
    response = await client.patch(
        ME,
        json={
            "email": "zed.quill@example.com",
            "password": "zed.quill!",
            "current_password": PASSWORD,
        },
        headers=bearer(user_token),
    )

    assert response.status_code == 400
    assert response.json()["reason"] == "contains_email"


async def test_admin_password_set_is_screened_too(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await register(client, "ann@example.com")

    response = await client.patch(
        f"/v1/users/{ann['id']}", json={"password": "password1"}, headers=bearer(superuser_token)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_INVALID_PASSWORD"
    assert response.json()["reason"] == "common"
    assert await _login_status(client, "ann@example.com", PASSWORD) == 200


async def test_reset_refuses_a_common_password_and_the_link_still_works(
    mail_client: AsyncClient,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    await mail_client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    token = mailbox.link_token((await mailbox.wait_for(2))[1], "/reset-password")

    common = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "baseball1"}
    )
    good = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": "a fresh new password"}
    )

    assert common.status_code == 400
    assert common.json()["code"] == "RESET_PASSWORD_INVALID_PASSWORD"
    assert common.json()["reason"] == "common"
    assert good.status_code == 204


async def test_the_cli_refuses_a_common_password(settings: Settings, client: AsyncClient) -> None:
    with pytest.raises(InvalidPassword) as refused:
        await create_superuser(settings, "root@example.com", "password123")

    assert refused.value.reason == "common"


async def test_service_name_setting_names_the_words_to_refuse(client_for: Any) -> None:
    async with client_for(service_name="Acme Portal") as acme:
        refused = await acme.post(
            REGISTER, json={"email": "ann@example.com", "password": "acmeportal!!"}
        )
        assert refused.status_code == 400
        assert refused.json()["reason"] == "contains_service_name"
        assert "Acme Portal" in refused.json()["message"]
        # The default name is just a phrase elsewhere.
        await register(acme, "bob@example.com", "authservice and more")


async def test_the_score_floor_is_a_setting_and_0_turns_it_off(client_for: Any) -> None:
    async with client_for(password_min_score=0) as lenient:
        await register(lenient, "ann@example.com", "abcdefghijklmn")
    async with client_for(password_min_score=4) as strict:
        refused = await strict.post(
            REGISTER, json={"email": "bob@example.com", "password": "Summer2024!"}
        )
        assert refused.json()["reason"] == "too_guessable"


async def test_a_screened_password_still_logs_in(client: AsyncClient) -> None:
    await register(client, "ann@example.com", "violet tractor 1987 quietly")

    assert await login(client, "ann@example.com", "violet tractor 1987 quietly")
