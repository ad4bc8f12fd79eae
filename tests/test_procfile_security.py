"""Password screening, the audit log and security notices, end to end against the real web
process from the Procfile (production mode, rate limits on) and a real SMTP server.

The tests connect from 127.0.0.1, the trusted proxy, so each names its client in
X-Forwarded-For: the address is what the audit log must record, and distinct addresses
keep the tests' rate-limit buckets apart on the one shared server.
"""

import json
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from email.message import Message
from typing import Any

import httpx
import pytest

from app.core.config import PROJECT_ROOT
from tests.conftest import PASSWORD
from tests.live_server import ProcfileServer, procfile_server, unique_email
from tests.smtp import Inbox, smtp_server

NEW_PASSWORD = "a fresh new password"
MAIL_WAIT_SECONDS = 20.0  # mail goes out after the response; two loaded cores


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server the web process mails to, on a free port."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


@pytest.fixture(scope="module")
def server(migrated_database_url: str, smtp: tuple[Inbox, int]) -> Iterator[ProcfileServer]:
    with procfile_server(
        migrated_database_url,
        "test_procfile_security",
        TRUSTED_PROXIES="127.0.0.1",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp[1]),
        SMTP_SECURITY="none",
    ) as running:
        yield running


def client_at(
    server: ProcfileServer, address: str, agent: str = "SecurityTest/1.0"
) -> httpx.Client:
    """A client that the trusted proxy (this process) says is at `address`."""
    return httpx.Client(
        base_url=server.url,
        headers={"X-Forwarded-For": address, "User-Agent": agent},
        timeout=30,
    )


def register(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/v1/users/", json={"email": email, "password": password})


def log_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/v1/users/login", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: httpx.Client, email: str) -> dict[str, Any]:
    created = register(client, email)
    assert created.status_code == 201, created.text
    login = log_in(client, email)
    assert login.status_code == 200, login.text
    tokens: dict[str, Any] = login.json()
    return tokens


def mail_to(inbox: Inbox, to: str, subject: str) -> Message:
    """The first mail to `to` whose subject contains `subject`, waiting a bounded time."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in list(inbox.messages):
            if message["To"] == to and subject in message["Subject"]:
                return message
        time.sleep(0.05)
    received = [(m["To"], m["Subject"]) for m in inbox.messages]
    raise AssertionError(f"no mail to {to} about {subject!r} in {received}")


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def fullwidth(text: str) -> str:
    """ASCII letters and digits as their fullwidth forms, which NFKC maps back."""
    return "".join(chr(ord(char) + 0xFEE0) if char.isalnum() else char for char in text)


# -- screening ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1", "common"),
        ("{local}2024!", "contains_email"),
        ("\u200b" * 10, "invisible"),
    ],
    ids=["common", "email-local-part", "invisible-only"],
)
def test_registration_refuses_a_weak_password_with_the_reason(
    server: ProcfileServer, password: str, reason: str
) -> None:
    email = unique_email("screened")
    with client_at(server, "198.51.100.10") as client:
        refused = register(client, email, password.format(local=email.partition("@")[0]))
        # The same address with a strong password is then free to register.
        created = register(client, email)

    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert (body["code"], body["reason"]) == ("REGISTER_INVALID_PASSWORD", reason)
    assert body["message"]
    assert created.status_code == 201, created.text


def test_a_password_typed_nfc_at_registration_logs_in_typed_nfd(server: ProcfileServer) -> None:
    email = unique_email("unicode")
    typed = "Crème brûlée façade über Åland"
    nfc, nfd = unicodedata.normalize("NFC", typed), unicodedata.normalize("NFD", typed)
    assert nfc != nfd
    with client_at(server, "198.51.100.11") as client:
        created = register(client, email, nfc)
        login = log_in(client, email, nfd)

    assert created.status_code == 201, created.text
    assert login.status_code == 200, login.text


def test_a_fullwidth_variant_of_a_registered_email_already_exists(server: ProcfileServer) -> None:
    email = unique_email("lookalike")
    local, _, domain = email.partition("@")
    lookalike = f"{fullwidth(local)}@{domain}"
    assert lookalike != email and unicodedata.normalize("NFKC", lookalike) == email
    with client_at(server, "198.51.100.12") as client:
        created = register(client, email)
        again = register(client, lookalike, NEW_PASSWORD)

    assert created.status_code == 201, created.text
    assert again.status_code == 400, again.text
    assert again.json()["code"] == "REGISTER_USER_ALREADY_EXISTS"


# -- audit log ------------------------------------------------------------------------------


def create_superuser(server: ProcfileServer, email: str) -> None:
    """The documented way: `python -m app.cli create-superuser`, against the same database."""
    done = subprocess.run(  # noqa: S603 - the project's own CLI
        [sys.executable, "-m", "app.cli", "create-superuser", email],
        env={**server.env, "SUPERUSER_PASSWORD": PASSWORD},
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_logins_and_a_password_change_are_in_the_audit_log_with_client_and_session(
    server: ProcfileServer,
) -> None:
    email, admin_email = unique_email("audited"), unique_email("auditor")
    wrong = "not the password at all"
    with client_at(server, "203.0.113.20", "Phone/1.0") as phone:
        created = register(phone, email)
        failed = log_in(phone, email, wrong)
    with client_at(server, "203.0.113.21", "Laptop/2.0") as laptop:
        login = log_in(laptop, email)
        assert login.status_code == 200, login.text
        tokens = login.json()
        sessions = laptop.get("/v1/users/me/sessions", headers=bearer(tokens["access_token"]))
        changed = laptop.patch(
            "/v1/users/me",
            headers=bearer(tokens["access_token"]),
            json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        )
        mine = laptop.get("/v1/users/me/events", headers=bearer(tokens["access_token"]))
        not_allowed = laptop.get(
            "/v1/audit-events",
            params={"user_id": created.json()["id"]},
            headers=bearer(tokens["access_token"]),
        )

    assert created.status_code == 201, created.text
    assert failed.status_code == 400, failed.text
    assert changed.status_code == 200, changed.text
    assert mine.status_code == 200, mine.text
    [current] = [session for session in sessions.json() if session["current"]]
    events = mine.json()["items"]
    assert [event["type"] for event in events] == [
        "password_changed",
        "login_succeeded",
        "login_failed",
        "registered",
    ]
    changed_event, succeeded, failure, registered = events
    assert failure["detail"] == {"reason": "bad_password"}
    assert (failure["ip_address"], failure["user_agent"], failure["session_id"]) == (
        "203.0.113.20",
        "Phone/1.0",
        None,
    )
    assert (succeeded["ip_address"], succeeded["user_agent"], succeeded["session_id"]) == (
        "203.0.113.21",
        "Laptop/2.0",
        current["id"],
    )
    assert (changed_event["ip_address"], changed_event["session_id"]) == (
        "203.0.113.21",
        current["id"],
    )
    assert registered["ip_address"] == "203.0.113.20"
    user_id = created.json()["id"]
    assert {event["user_id"] for event in events} == {user_id}
    assert [e["occurred_at"] for e in events] == sorted(
        (e["occurred_at"] for e in events), reverse=True
    )

    assert not_allowed.status_code == 403, not_allowed.text
    assert not_allowed.json()["code"] == "FORBIDDEN"

    create_superuser(server, admin_email)
    with client_at(server, "203.0.113.22") as admin:
        admin_login = log_in(admin, admin_email)
        assert admin_login.status_code == 200, admin_login.text
        admin_token = admin_login.json()["access_token"]
        found = admin.get(
            "/v1/audit-events",
            params={"user_id": user_id, "type": "login_failed"},
            headers=bearer(admin_token),
        )
        everything = admin.get(
            "/v1/audit-events", params={"user_id": user_id}, headers=bearer(admin_token)
        )
    assert found.status_code == 200, found.text
    assert everything.status_code == 200, everything.text
    assert [e["id"] for e in everything.json()["items"]] == [e["id"] for e in events]
    assert [(e["id"], e["type"], e["user_id"]) for e in found.json()["items"]] == [
        (failure["id"], "login_failed", user_id)
    ]

    secrets = [
        PASSWORD,
        NEW_PASSWORD,
        wrong,
        tokens["access_token"],
        tokens["refresh_token"],
        admin_token,
    ]
    for listing in (mine.text, everything.text, json.dumps(everything.json())):
        for secret in secrets:
            assert secret not in listing


# -- notifications --------------------------------------------------------------------------


def test_a_password_change_is_mailed_to_the_account(server: ProcfileServer, inbox: Inbox) -> None:
    email = unique_email("notified")
    with client_at(server, "192.0.2.30", "Notice/1.0") as client:
        tokens = signed_in(client, email)
        changed = client.patch(
            "/v1/users/me",
            headers=bearer(tokens["access_token"]),
            json={"password": NEW_PASSWORD, "current_password": PASSWORD},
        )
    assert changed.status_code == 200, changed.text

    notice = mail_to(inbox, email, "Your password was changed")
    text = text_of(notice)
    assert "192.0.2.30" in text and "Notice/1.0" in text
    assert NEW_PASSWORD not in text and PASSWORD not in text


def test_an_email_change_is_mailed_to_the_old_address(server: ProcfileServer, inbox: Inbox) -> None:
    old, new = unique_email("moving"), unique_email("moved")
    with client_at(server, "192.0.2.31", "Notice/1.0") as client:
        tokens = signed_in(client, old)
        changed = client.patch(
            "/v1/users/me",
            headers=bearer(tokens["access_token"]),
            json={"email": new, "current_password": PASSWORD},
        )
    assert changed.status_code == 200, changed.text

    notice = mail_to(inbox, old, "email address was changed")
    text = text_of(notice)
    assert new in text and "192.0.2.31" in text
    assert all(m["To"] != new or "changed" not in m["Subject"] for m in inbox.messages)


def test_a_websocket_upgrade_is_answered_as_plain_http(server: ProcfileServer) -> None:
    """No endpoint speaks WebSocket (the Procfile serves with --ws none): an upgrade gets
    the ordinary JSON answer for its path, never a 101 Switching Protocols."""
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    with httpx.Client(base_url=server.url) as client:
        response = client.get("/v1/users/me", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
