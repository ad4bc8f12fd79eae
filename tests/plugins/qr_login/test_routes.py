"""QR sign-in's contract, state by state, in process (the Procfile test runs the main flow)."""

import asyncio
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import segno
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.cli import create_superuser
from app.core.config import Settings
from app.main import create_app
from app.plugins.qr_login.schemas import StartRequest
from app.plugins.qr_login.service import QR_SVG
from tests.conftest import PASSWORD, login, make_settings, register, running
from tests.plugins.qr_login.flow import (
    DESKTOP,
    DEVICE_GRANT,
    USER_CODE,
    bearer,
    decide,
    error_of,
    poll,
    start,
)
from tests.smtp import smtp_server

NOT_FOUND = "QR_LOGIN_REQUEST_NOT_FOUND"


@pytest.fixture(scope="module")
async def qr(settings: Settings, db_engine: AsyncEngine) -> AsyncIterator[AsyncClient]:
    """One app with qr_login enabled for the module."""
    app = create_app(settings.model_copy(update={"plugins": ["qr_login"]}))
    async with running(app) as client:
        yield client


@pytest.fixture
async def phone(qr: AsyncClient, db_engine: AsyncEngine) -> str:
    """The approver's access token (signed in on their phone)."""
    await register(qr, "ann@example.com")
    return await login(qr, "ann@example.com")


async def expire(db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(
            text("UPDATE qr_login_requests SET expires_at = now() - interval '1 second'")
        )


# 1. start


async def test_start_answers_the_device_grant_fields(
    qr: AsyncClient, db_engine: AsyncEngine
) -> None:
    started = await start(qr)

    assert set(started) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
        "qr_svg",
    }
    assert len(started["device_code"]) >= 43  # 256 bits, URL-safe base64
    assert USER_CODE.match(started["user_code"])
    assert started["verification_uri"] == "http://testserver/qr"
    assert started["verification_uri_complete"] == (
        f"http://testserver/qr?code={started['user_code']}"
    )
    assert (started["expires_in"], started["interval"]) == (120, 2)
    assert started["device_code"] not in started["qr_svg"]
    assert started["device_code"] not in started["verification_uri_complete"]


async def test_the_qr_code_is_segno_s_code_of_the_complete_uri(
    qr: AsyncClient, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    svg = ET.fromstring(started["qr_svg"])  # noqa: S314 - our own server's markup

    expected = segno.make_qr(started["verification_uri_complete"], error="m")
    # The drawing is segno's drawing of that URL, module for module (a full-size QR code,
    # never a Micro QR): the browser test decodes the rendered picture itself.
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert expected.designator.endswith("-M") and not expected.is_micro
    drawn = io.BytesIO()
    expected.save(drawn, **QR_SVG)
    assert started["qr_svg"] == drawn.getvalue().decode()
    assert svg.get("viewBox") == f"0 0 {expected.symbol_size(scale=4)[0]} " + str(
        expected.symbol_size(scale=4)[1]
    )
    assert "<script" not in started["qr_svg"]


async def test_two_starts_get_different_codes(qr: AsyncClient, db_engine: AsyncEngine) -> None:
    first, second = await start(qr), await start(qr)

    assert first["device_code"] != second["device_code"]
    assert first["user_code"] != second["user_code"]


async def test_the_device_code_is_stored_only_as_its_digest(
    qr: AsyncClient, db_engine: AsyncEngine
) -> None:
    started = await start(qr)

    async with db_engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM qr_login_requests"))).one()
    assert started["device_code"] not in repr(tuple(row))
    assert len(row.device_code_digest) == 64


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"client_name": "a\\u0007b"}', "application/json", 422),
        (b'{"client_name": "' + b"x" * 101 + b'"}', "application/json", 422),
        (b'{"device": "x"}', "application/json", 422),
        (b"{not json", "application/json", 422),
        (b"client_name=a%07b", "application/x-www-form-urlencoded", 422),
        (b"client_name=a&client_name=b", "application/x-www-form-urlencoded", 422),
        (b"hello", "text/plain", 415),
        (b"<client_name/>", "application/xml", 415),
    ],
)
async def test_a_bad_start_body_gets_a_clear_4xx(
    qr: AsyncClient, db_engine: AsyncEngine, body: bytes, content_type: str, status: int
) -> None:
    response = await qr.post(
        "/v1/qr-login/start", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] in {"VALIDATION_ERROR", "UNSUPPORTED_MEDIA_TYPE"}


@pytest.mark.parametrize(
    ("client_name", "accepted"),
    [
        ("Office\u00a0PC", True),  # a no-break space, as some keyboards type
        ("J\u00f6rg\u2019s \U0001f4bb", True),
        ("\U0002e617 PC", True),  # a code point Unicode has not assigned yet
        ("a\tb", False),
        ("a\u0085b", False),  # C1 control
        ("gpj.\u202eexe", False),  # a direction override would disguise the name
        ("a\u200bb", False),  # invisible
    ],
)
async def test_the_schema_states_the_client_name_rule_the_server_applies(
    qr: AsyncClient, db_engine: AsyncEngine, client_name: str, accepted: bool
) -> None:
    schema = StartRequest.model_json_schema()["properties"]["client_name"]
    pattern = next(option["pattern"] for option in schema["anyOf"] if "pattern" in option)

    response = await qr.post("/v1/qr-login/start", json={"client_name": client_name})

    assert (re.fullmatch(pattern, client_name) is not None) is accepted
    assert response.status_code == (201 if accepted else 422), response.text


async def test_an_rfc_8628_device_authorization_request_starts_one(
    qr: AsyncClient, phone: str
) -> None:
    """RFC 8628 §3.1's request, as a standard client sends it: a form with `client_id` and
    maybe `scope` (both ignored: clients are public, tokens have no scopes)."""
    form = {
        "client_id": "1406020730",
        "scope": "example_scope",
        "client_name": "Living room TV",
        "audience": "https://api.example.com",  # unrecognised: ignored, as RFC 6749 §3.2 asks
    }

    as_form = await qr.post("/v1/qr-login/start", data=form, headers={"User-Agent": DESKTOP})
    as_json = await qr.post("/v1/qr-login/start", json={"client_id": "1406020730"})

    assert as_form.status_code == 201, as_form.text
    assert as_json.status_code == 201, as_json.text
    seen = await qr.get(
        f"/v1/qr-login/requests/{as_form.json()['user_code']}", headers=bearer(phone)
    )
    assert seen.json()["client_name"] == "Living room TV"
    assert "1406020730" not in seen.text


async def test_a_huge_body_is_refused_with_413(qr: AsyncClient, db_engine: AsyncEngine) -> None:
    body = b'{"client_name": "' + b"x" * 200_000 + b'"}'

    for path in ("/v1/qr-login/start", "/v1/qr-login/token"):
        response = await qr.post(path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["code"] == "REQUEST_TOO_LARGE"


# 2. lookup


async def test_the_approver_sees_the_requesting_device(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr, client_name="Office PC")
    typed = started["user_code"].replace("-", "").lower()  # as typed on a phone

    response = await qr.get(f"/v1/qr-login/requests/{typed}", headers=bearer(phone))

    assert response.status_code == 200
    seen = response.json()
    assert set(seen) == {
        "user_code",
        "client_name",
        "user_agent",
        "ip_address",
        "created_at",
        "expires_at",
    }
    assert seen["user_code"] == started["user_code"]
    assert (seen["client_name"], seen["user_agent"], seen["ip_address"]) == (
        "Office PC",
        DESKTOP,
        "127.0.0.1",
    )


async def test_a_lookup_needs_a_signed_in_user(qr: AsyncClient, db_engine: AsyncEngine) -> None:
    started = await start(qr)

    response = await qr.get(f"/v1/qr-login/requests/{started['user_code']}")

    assert response.status_code == 401
    assert "Desktop" not in response.text


@pytest.mark.parametrize(
    "code",
    ["BCDF-GHJK", "AAAA-AAAA", "BCDF", "BCDF-GHJK-L", "x" * 2000, "%00%00", "BCDF GHJ1"],
)
async def test_unknown_and_malformed_codes_get_one_404(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine, code: str
) -> None:
    response = await qr.get(f"/v1/qr-login/requests/{code}", headers=bearer(phone))
    decided = await qr.post(f"/v1/qr-login/requests/{code}/approve", headers=bearer(phone))

    for answer in (response, decided):
        assert answer.status_code == 404
        assert answer.json()["code"] == NOT_FOUND


# 3. approve / deny, once


async def test_a_code_is_decided_once(qr: AsyncClient, phone: str, db_engine: AsyncEngine) -> None:
    code = (await start(qr))["user_code"]

    assert await decide(qr, phone, code, "approve") == 204
    assert await decide(qr, phone, code, "approve") == 404
    assert await decide(qr, phone, code, "deny") == 404
    lookup = await qr.get(f"/v1/qr-login/requests/{code}", headers=bearer(phone))
    assert lookup.status_code == 404


async def test_expired_codes_cannot_be_seen_or_decided(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await expire(db_engine)

    lookup = await qr.get(f"/v1/qr-login/requests/{started['user_code']}", headers=bearer(phone))

    assert lookup.status_code == 404
    assert await decide(qr, phone, started["user_code"], "approve") == 404
    assert error_of(await poll(qr, started["device_code"])) == "expired_token"


# 4. token polling


async def test_polling_before_approval_is_pending_then_too_fast(
    qr: AsyncClient, db_engine: AsyncEngine
) -> None:
    started = await start(qr)

    assert error_of(await poll(qr, started["device_code"])) == "authorization_pending"
    assert error_of(await poll(qr, started["device_code"])) == "slow_down"


async def test_an_unknown_device_code_is_an_invalid_grant(
    qr: AsyncClient, db_engine: AsyncEngine
) -> None:
    assert error_of(await poll(qr, "not-a-device-code")) == "invalid_grant"


async def test_a_denied_request_answers_access_denied(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    assert await decide(qr, phone, started["user_code"], "deny") == 204

    assert error_of(await poll(qr, started["device_code"])) == "access_denied"
    assert error_of(await poll(qr, started["device_code"])) == "access_denied"


async def test_an_approved_request_signs_the_device_in_exactly_once(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    assert error_of(await poll(qr, started["device_code"])) == "authorization_pending"
    assert await decide(qr, phone, started["user_code"], "approve") == 204

    signed_in = await poll(qr, started["device_code"])
    again = await poll(qr, started["device_code"])

    assert signed_in.status_code == 200, signed_in.text
    tokens = signed_in.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert signed_in.headers["cache-control"] == "no-store"
    me = await qr.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == "ann@example.com"
    assert error_of(again) == "invalid_grant"
    refreshed = await qr.post("/v1/users/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200


async def test_a_qr_sign_in_s_access_token_carries_the_approver_s_roles(
    qr: AsyncClient, phone: str, settings: Settings, db_engine: AsyncEngine
) -> None:
    await create_superuser(settings, "root@example.com", PASSWORD)
    root = bearer(await login(qr, "root@example.com"))
    ann_id = (await qr.get("/v1/users/me", headers=bearer(phone))).json()["id"]
    assert (await qr.post("/v1/roles", json={"name": "editor"}, headers=root)).status_code == 201
    given = await qr.put(f"/v1/users/{ann_id}/roles", json=["editor"], headers=root)
    assert given.status_code == 200, given.text
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    access = (await poll(qr, started["device_code"])).json()["access_token"]

    assert jwt.decode(access, options={"verify_signature": False})["roles"] == ["editor"]


async def test_the_new_session_is_the_approver_s_labelled_qr_with_the_requester_s_device(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")
    access = (await poll(qr, started["device_code"])).json()["access_token"]

    listed = (await qr.get("/v1/users/me/sessions", headers=bearer(phone))).json()
    async with db_engine.connect() as connection:
        rows = await connection.execute(text("SELECT user_agent, method FROM sessions"))
        methods = {row.user_agent: row.method for row in rows}
        audited = (
            await connection.execute(
                text("SELECT detail FROM audit_events WHERE type = 'login_succeeded'")
            )
        ).scalars()
        audit_details = list(audited)

    [desktop] = [s for s in listed if s["user_agent"] == DESKTOP]
    assert desktop["ip_address"] == "127.0.0.1"
    assert desktop["method"] == "qr"
    assert methods[DESKTOP] == "qr"
    assert {"method": "qr"} in audit_details
    me = await qr.get("/v1/users/me", headers=bearer(access))
    assert me.status_code == 200


async def test_a_qr_session_ends_like_any_other(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")
    access = (await poll(qr, started["device_code"])).json()["access_token"]
    listed = (await qr.get("/v1/users/me/sessions", headers=bearer(phone))).json()
    [desktop] = [s for s in listed if s["user_agent"] == DESKTOP]

    revoked = await qr.delete(f"/v1/users/me/sessions/{desktop['id']}", headers=bearer(phone))

    assert revoked.status_code == 204
    assert (await qr.get("/v1/users/me", headers=bearer(access))).status_code == 401


async def test_cookie_delivery_sets_the_refresh_cookie_as_login_does(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    response = await poll(qr, started["device_code"], **{"X-Refresh-Token-Delivery": "cookie"})

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("refresh_token=")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/v1/users" in cookie
    qr.cookies.clear()


async def test_cookie_delivery_from_another_origin_is_refused_before_anything_happens(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    refused = await poll(
        qr,
        started["device_code"],
        **{"X-Refresh-Token-Delivery": "cookie", "Origin": "https://evil.example"},
    )
    afterwards = await poll(qr, started["device_code"])

    assert refused.status_code == 403
    assert refused.json()["code"] == "CSRF_CHECK_FAILED"
    assert afterwards.status_code == 200  # the refusal didn't use the approval up


async def test_two_polls_racing_after_approval_get_one_200(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    answers = await asyncio.gather(*(poll(qr, started["device_code"]) for _ in range(4)))

    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
    assert {error_of(a) for a in answers if a.status_code == 400} == {"invalid_grant"}


async def test_an_rfc_8628_form_poll_is_understood(qr: AsyncClient, db_engine: AsyncEngine) -> None:
    started = await start(qr)
    form = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": "x"}

    pending = await qr.post("/v1/qr-login/token", data=form)
    wrong_grant = await qr.post("/v1/qr-login/token", data={**form, "grant_type": "password"})

    assert error_of(pending) == "authorization_pending"
    assert error_of(wrong_grant) == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{}", "application/json", 422),
        (b'{"device_code": ""}', "application/json", 422),
        (b'{"device_code": "' + b"x" * 300 + b'"}', "application/json", 422),
        (b"", "application/json", 422),
        (b"device_code=x", "text/plain", 415),
        (b"", "", 415),
        # RFC 6749 §3.2: each parameter once; which of two would count is anyone's guess.
        (b"device_code=a&device_code=b", "application/x-www-form-urlencoded", 422),
    ],
)
async def test_a_bad_token_body_gets_a_clear_4xx(
    qr: AsyncClient, db_engine: AsyncEngine, body: bytes, content_type: str, status: int
) -> None:
    response = await qr.post(
        "/v1/qr-login/token", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] in {"VALIDATION_ERROR", "UNSUPPORTED_MEDIA_TYPE"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"device_code=x"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n',
        ),
    ],
)
async def test_a_token_body_of_another_type_is_told_that_a_form_is_accepted_too(
    qr: AsyncClient, db_engine: AsyncEngine, content_type: str, body: bytes
) -> None:
    response = await qr.post(
        "/v1/qr-login/token", content=body, headers={"Content-Type": content_type}
    )

    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["message"]


async def test_the_approver_s_deactivation_in_between_denies_the_device(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")
    async with db_engine.begin() as connection:
        await connection.execute(text("UPDATE users SET is_active = false"))

    assert error_of(await poll(qr, started["device_code"])) == "access_denied"


CHANGES_THAT_SIGN_OUT = {
    "password": ("PATCH", "/v1/users/me", {"password": "a different horse battery"}),
    "email": ("PATCH", "/v1/users/me", {"email": "ann.new@example.com"}),
    "everywhere else": ("DELETE", "/v1/users/me/sessions", None),
}


@pytest.mark.parametrize("change", CHANGES_THAT_SIGN_OUT)
async def test_an_approval_not_yet_collected_ends_with_a_sign_out_everywhere(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine, change: str
) -> None:
    # Approved, then the password changed (say, because the phone was stolen): the
    # device must not get a session that outlives the "every other session ends".
    started = await start(qr)
    other = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")
    method, path, body = CHANGES_THAT_SIGN_OUT[change]
    if body is not None:
        body = {**body, "current_password": PASSWORD}

    changed = await qr.request(method, path, json=body, headers=bearer(phone))
    await decide(qr, phone, other["user_code"], "approve")  # after the change: still fine

    assert changed.status_code in (200, 204), changed.text
    assert error_of(await poll(qr, started["device_code"])) == "access_denied"
    assert (await poll(qr, other["device_code"])).status_code == 200


async def test_an_approval_not_yet_collected_ends_with_a_password_reset(client_for: Any) -> None:
    """A forgotten password reset by emailed link, the other way the password changes."""
    with smtp_server() as (mailbox, port):
        async with client_for(
            plugins=["qr_login"], smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
        ) as client:
            await register(client, "ann@example.com")
            phone = await login(client, "ann@example.com")
            started = await start(client)
            await decide(client, phone, started["user_code"], "approve")

            await client.post("/v1/users/forgot-password", json={"email": "ann@example.com"})
            mailed = (await mailbox.wait_for(2))[1]  # after the confirmation mail
            reset = await client.post(
                "/v1/users/reset-password",
                json={
                    "token": mailbox.link_token(mailed, "/reset-password"),
                    "password": "a fresh new password",
                },
            )
            polled = await poll(client, started["device_code"])

    assert reset.status_code == 204, reset.text
    assert error_of(polled) == "access_denied"


async def test_an_approval_not_yet_collected_ends_when_an_admin_switches_the_account_off(
    qr: AsyncClient, phone: str, settings: Settings, db_engine: AsyncEngine
) -> None:
    """Even if the account is switched back on before the device polls again."""
    await create_superuser(settings, "root@example.com", PASSWORD)
    root = bearer(await login(qr, "root@example.com"))
    ann = (await qr.get("/v1/users/me", headers=bearer(phone))).json()["id"]
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    off = await qr.patch(f"/v1/users/{ann}", json={"is_active": False}, headers=root)
    on = await qr.patch(f"/v1/users/{ann}", json={"is_active": True}, headers=root)

    assert (off.status_code, on.status_code) == (200, 200)
    assert error_of(await poll(qr, started["device_code"])) == "access_denied"


async def test_ending_one_other_session_leaves_an_approval_to_be_collected(
    qr: AsyncClient, phone: str, db_engine: AsyncEngine
) -> None:
    laptop = await login(qr, "ann@example.com")
    sessions = (await qr.get("/v1/users/me/sessions", headers=bearer(laptop))).json()
    started = await start(qr)
    await decide(qr, phone, started["user_code"], "approve")

    for listed in sessions:
        if not listed["current"]:
            await qr.delete(f"/v1/users/me/sessions/{listed['id']}", headers=bearer(laptop))

    assert (await poll(qr, started["device_code"])).status_code == 200


# Settings, limits and the sweeper: apps of their own.


async def test_settings_come_from_qr_login_variables(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QR_LOGIN_TTL_SECONDS", "300")
    monkeypatch.setenv("QR_LOGIN_INTERVAL_SECONDS", "5")
    monkeypatch.setenv("QR_LOGIN_PUBLIC_BASE_URL", "https://auth.example.com")
    async with client_for(plugins=["qr_login"]) as client:
        started = await start(client)

    assert (started["expires_in"], started["interval"]) == (300, 5)
    assert started["verification_uri"] == "https://auth.example.com/qr"


async def test_production_refuses_a_plain_http_qr_address(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PUBLIC_URL must be https in production; the QR code's own address must be too.
    monkeypatch.setenv("QR_LOGIN_PUBLIC_BASE_URL", "http://auth.example.com")
    production = client_for(app_env="production", bcrypt_rounds=10, plugins=["qr_login"])

    with pytest.raises(Exception, match="QR_LOGIN_PUBLIC_BASE_URL must be an https URL"):
        async with production:
            pass

    monkeypatch.setenv("QR_LOGIN_PUBLIC_BASE_URL", "https://auth.example.com")
    async with client_for(app_env="production", bcrypt_rounds=10, plugins=["qr_login"]) as ok:
        assert (await start(ok))["verification_uri"] == "https://auth.example.com/qr"


def test_a_ttl_above_five_minutes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QR_LOGIN_TTL_SECONDS", "301")

    with pytest.raises(ValueError, match="ttl_seconds"):
        create_app(make_settings("sqlite+aiosqlite:///:memory:", plugins=["qr_login"]))


async def test_starts_are_limited_per_address_and_decisions_per_user(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QR_LOGIN_RATE_LIMIT_STARTS", "2/minute")
    monkeypatch.setenv("QR_LOGIN_RATE_LIMIT_DECISIONS", "3/minute")
    async with client_for(plugins=["qr_login"], rate_limits_enabled=True) as client:
        starts = [await client.post("/v1/qr-login/start") for _ in range(3)]
        await register(client, "bob@example.com")
        token = await login(client, "bob@example.com")
        lookups = [
            await client.get("/v1/qr-login/requests/BCDF-GHJK", headers=bearer(token))
            for _ in range(4)
        ]

    assert [r.status_code for r in starts] == [201, 201, 429]
    assert starts[2].json()["code"] == "TOO_MANY_REQUESTS"
    assert int(starts[2].headers["retry-after"]) > 0
    assert [r.status_code for r in lookups] == [404, 404, 404, 429]


async def test_expired_requests_are_purged_by_the_sweeper(
    client_for: Any, db_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QR_LOGIN_PURGE_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("QR_LOGIN_PURGE_AFTER_SECONDS", "0")
    async with client_for(plugins=["qr_login"]) as client:
        await start(client)
        live = await start(client)
        async with db_engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE qr_login_requests SET expires_at = now() - interval '1 second' "
                    "WHERE user_code <> :live"
                ),
                {"live": live["user_code"].replace("-", "")},
            )
        left = 2
        for _ in range(50):  # the sweeper runs every second
            await asyncio.sleep(0.1)
            async with db_engine.connect() as connection:
                left = await connection.scalar(text("SELECT count(*) FROM qr_login_requests"))
            if left == 1:
                break

    assert left == 1
