"""Passwords and emails are compared in their NFKC form, whatever form a device sends."""

import unicodedata
from typing import Any

from httpx import AsyncClient
from pwdlib.hashers.bcrypt import BcryptHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.v1.users.test_email_links import inbox, mail_client  # noqa: F401
from tests.conftest import bearer, login, register
from tests.smtp import Inbox

LOGIN = "/v1/users/login"
ME = "/v1/users/me"
NFC = unicodedata.normalize("NFC", "crème brûlée à l'été")
NFD = unicodedata.normalize("NFD", NFC)


def fullwidth(text: str) -> str:
    """Full-width forms of ASCII letters, digits and punctuation (what some IMEs type)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


async def _login_status(client: AsyncClient, email: str, password: str) -> int:
    response = await client.post(LOGIN, json={"email": email, "password": password})
    return response.status_code


async def _stored_hash(db_engine: AsyncEngine, email: str) -> str:
    async with db_engine.connect() as connection:
        hashed: str = await connection.scalar(
            text("SELECT hashed_password FROM users WHERE email = :email"), {"email": email}
        )
    return hashed


async def test_a_password_registered_in_nfc_logs_in_when_sent_in_nfd(client: AsyncClient) -> None:
    assert NFC != NFD
    await register(client, "ann@example.com", NFC)

    assert await _login_status(client, "ann@example.com", NFD) == 200
    assert await _login_status(client, "ann@example.com", NFC) == 200


async def test_a_password_registered_in_nfd_logs_in_when_sent_in_nfc(client: AsyncClient) -> None:
    await register(client, "ann@example.com", NFD)

    assert await _login_status(client, "ann@example.com", NFC) == 200


async def test_compatibility_forms_of_a_password_are_the_same_password(
    client: AsyncClient,
) -> None:
    await register(client, "ann@example.com", "Violet tractor 1987")

    assert await _login_status(client, "ann@example.com", fullwidth("Violet tractor 1987")) == 200
    assert await _login_status(client, "ann@example.com", "Violet tractor 1988") == 400


async def test_current_password_checks_accept_any_normal_form(client: AsyncClient) -> None:
    await register(client, "ann@example.com", NFC)
    token = await login(client, "ann@example.com", NFC)

    changed = await client.patch(
        ME,
        json={"password": "violet tractor 1987", "current_password": NFD},
        headers=bearer(token),
    )
    deleted = await client.request(
        "DELETE", ME, json={"current_password": "violet tractor 1987"}, headers=bearer(token)
    )

    assert changed.status_code == 200, changed.text
    assert deleted.status_code == 204


async def test_a_hash_of_the_unnormalised_form_still_works_and_is_upgraded_at_login(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    # Before passwords were normalised, "ﬁnal ﬂight" (with ligatures) was hashed as typed.
    typed = "\ufb01nal \ufb02ight plan 7"
    normalized = unicodedata.normalize("NFKC", typed)
    assert typed != normalized
    await register(client, "ann@example.com", "placeholder passphrase 42")
    old_hash = BcryptHasher(rounds=4).hash(typed)
    async with db_engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET hashed_password = :hash WHERE email = 'ann@example.com'"),
            {"hash": old_hash},
        )

    assert await _login_status(client, "ann@example.com", typed) == 200

    new_hash = await _stored_hash(db_engine, "ann@example.com")
    assert new_hash != old_hash
    assert BcryptHasher().verify(normalized, new_hash)
    assert await _login_status(client, "ann@example.com", normalized) == 200
    assert await _login_status(client, "ann@example.com", typed) == 200


async def test_a_reset_password_is_normalised_too(
    mail_client: AsyncClient,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")
    await mail_client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
    token = mailbox.link_token((await mailbox.wait_for(2))[1], "/reset-password")

    reset = await mail_client.post(
        "/v1/users/reset-password", json={"token": token, "password": NFD}
    )

    assert reset.status_code == 204
    assert await _login_status(mail_client, "ann@example.com", NFC) == 200


# -- emails --------------------------------------------------------------------------------


async def test_a_fullwidth_lookalike_email_is_the_same_account(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    lookalike = await client.post(
        "/v1/users/",
        json={"email": fullwidth("ann") + "@example.com", "password": "another strong one 9"},
    )

    assert lookalike.status_code == 400
    assert lookalike.json()["code"] == "REGISTER_USER_ALREADY_EXISTS"


async def test_an_email_registered_in_fullwidth_is_stored_in_its_plain_form(
    client: AsyncClient,
) -> None:
    user = await register(client, fullwidth("Ann") + "＠" + fullwidth("example.com"))

    assert user["email"] == "ann@example.com"
    assert await login(client, "ann@example.com")


async def test_login_works_with_either_form_of_the_email(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    assert await login(client, fullwidth("ann@example.com"))
    assert await login(client, "ann@" + fullwidth("example") + ".com")


async def test_an_email_change_to_a_lookalike_of_a_taken_address_is_refused(
    client: AsyncClient, user_token: str
) -> None:
    await register(client, "bob@example.com")

    response = await client.patch(
        ME,
        json={
            "email": fullwidth("bob") + "@example.com",
            "current_password": "correct horse battery",
        },
        headers=bearer(user_token),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "UPDATE_USER_EMAIL_ALREADY_EXISTS"


async def test_mail_for_a_lookalike_address_goes_to_the_stored_address(
    mail_client: AsyncClient,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    mailbox, _ = inbox
    await register(mail_client, "ann@example.com")

    await mail_client.post(
        "/v1/users/forgot-password", json={"email": fullwidth("ann") + "@example.com"}
    )

    messages: list[Any] = await mailbox.wait_for(2)
    assert messages[1]["To"] == "ann@example.com"
    assert "/reset-password#token=" in messages[1].get_payload()


async def test_admin_search_finds_an_account_by_a_fullwidth_fragment(
    client: AsyncClient, superuser_token: str
) -> None:
    await register(client, "ann@example.com")

    page = await client.get(
        "/v1/users/", params={"email": fullwidth("ANN")}, headers=bearer(superuser_token)
    )

    assert [item["email"] for item in page.json()["items"]] == ["ann@example.com"]
