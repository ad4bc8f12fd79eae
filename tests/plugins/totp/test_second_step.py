"""The login of an account with two-step on: the held password step, then a code."""

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, register
from tests.plugins.totp.conftest import (
    clear_of_step_boundary,
    code,
    enrolled_user,
    forget_last_used_step,
    password_step,
    second_step,
)


def wrong_code(secret: str) -> str:
    """A code that is none of the accepted window's three."""
    window = {code(secret, steps) for steps in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)


async def test_password_of_an_enrolled_user_answers_an_mfa_token_and_no_tokens(
    client: AsyncClient,
) -> None:
    ann = await enrolled_user(client)

    response = await client.post(
        "/v1/users/login",
        json={"email": ann.email, "password": PASSWORD},
        headers={"X-Refresh-Token-Delivery": "cookie"},
    )

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"mfa_required", "mfa_token", "methods", "expires_in"}
    assert body["mfa_required"] is True
    assert body["methods"] == ["totp", "recovery_code"]
    assert body["expires_in"] == 300
    assert len(body["mfa_token"]) >= 43  # 256 random bits
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_password_answers_exactly_as_for_an_account_without_two_step(
    client: AsyncClient,
) -> None:
    ann = await enrolled_user(client)
    await register(client, "bob@example.com")
    attempt = "wrong password"

    enrolled = await client.post("/v1/users/login", json={"email": ann.email, "password": attempt})
    plain = await client.post(
        "/v1/users/login", json={"email": "bob@example.com", "password": attempt}
    )
    unknown = await client.post(
        "/v1/users/login", json={"email": "nobody@example.com", "password": attempt}
    )

    answers = [
        (r.status_code, r.json(), "set-cookie" in r.headers) for r in (enrolled, plain, unknown)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (
        400,
        {"code": "LOGIN_BAD_CREDENTIALS", "message": answers[0][1]["message"]},
    )


async def test_the_code_signs_in_as_login_does(client: AsyncClient, db_engine: AsyncEngine) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    await clear_of_step_boundary()

    response = await second_step(client, held["mfa_token"], code=code(ann.secret))

    tokens = response.json()
    assert response.status_code == 200, response.text
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    me = await client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == ann.email
    refreshed = await client.post(
        "/v1/users/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    async with db_engine.connect() as connection:
        methods = (await connection.execute(text("SELECT method FROM sessions"))).scalars().all()
    assert sorted(methods) == ["password", "password+totp"]


async def test_the_second_step_delivers_the_refresh_cookie_when_asked(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    await clear_of_step_boundary()

    response = await client.post(
        "/v1/users/login/mfa",
        json={"mfa_token": held["mfa_token"], "code": code(ann.secret)},
        headers={"X-Refresh-Token-Delivery": "cookie"},
    )

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("refresh_token=") and "HttpOnly" in cookie
    assert "Path=/v1/users" in cookie


async def test_a_code_accepted_once_is_refused_when_replayed(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    await clear_of_step_boundary()
    current = code(ann.secret)
    first = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], code=current
    )

    replay = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], code=current
    )

    assert first.status_code == 200
    assert (replay.status_code, replay.json()["code"]) == (401, "TOTP_CODE_INVALID")


async def test_an_older_code_is_refused_after_a_newer_one(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    await clear_of_step_boundary()
    newer = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], code=code(ann.secret, 1)
    )

    older = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], code=code(ann.secret)
    )

    assert newer.status_code == 200
    assert older.status_code == 401


@pytest.mark.parametrize(("steps", "status"), [(-2, 401), (-1, 200), (1, 200), (2, 401)])
async def test_one_step_of_clock_drift_is_accepted_and_two_are_not(
    client: AsyncClient, db_engine: AsyncEngine, steps: int, status: int
) -> None:
    ann = await enrolled_user(client)
    await forget_last_used_step(db_engine, ann.user_id)  # activated long ago
    held = await password_step(client, ann.email)
    await clear_of_step_boundary()

    response = await second_step(client, held["mfa_token"], code=code(ann.secret, steps))

    assert response.status_code == status, response.text


async def test_a_recovery_code_signs_in_once(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    spoken = ann.recovery_codes[3].upper().replace("-", " ")  # as read out over the phone

    first = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], recovery_code=spoken
    )
    again = await second_step(
        client,
        (await password_step(client, ann.email))["mfa_token"],
        recovery_code=ann.recovery_codes[3],
    )
    status = await client.get("/v1/mfa", headers=bearer(first.json()["access_token"]))

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (401, "TOTP_CODE_INVALID")
    assert status.json() == {"totp": True, "recovery_codes_left": 9}


async def test_a_wrong_recovery_code_is_not_answered_in_app_code_words(
    client: AsyncClient,
) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)

    wrong_recovery = await second_step(client, held["mfa_token"], recovery_code="aaaaa-aaaaa")
    wrong_app_code = await second_step(client, held["mfa_token"], code=wrong_code(ann.secret))

    assert (wrong_recovery.status_code, wrong_recovery.json()["code"]) == (401, "TOTP_CODE_INVALID")
    assert "recovery code" in wrong_recovery.json()["message"]
    assert "next code" not in wrong_recovery.json()["message"]
    assert (wrong_app_code.status_code, wrong_app_code.json()["code"]) == (401, "TOTP_CODE_INVALID")
    assert "next code" in wrong_app_code.json()["message"]


async def test_the_mfa_token_works_once(client: AsyncClient) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)

    first = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[0])
    again = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[1])

    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")


async def test_the_mfa_token_dies_after_five_wrong_codes(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    await clear_of_step_boundary()

    wrong = [
        await second_step(client, held["mfa_token"], code=wrong_code(ann.secret)) for _ in range(5)
    ]
    right = await second_step(client, held["mfa_token"], code=code(ann.secret))

    assert [(r.status_code, r.json()["code"]) for r in wrong] == [(401, "TOTP_CODE_INVALID")] * 5
    assert (right.status_code, right.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")
    async with db_engine.connect() as connection:
        failed = await connection.execute(
            text("SELECT detail FROM audit_events WHERE type = 'mfa_failed' ORDER BY occurred_at")
        )
        details: list[Any] = list(failed.scalars())
    assert [d["attempts_left"] for d in details] == [4, 3, 2, 1, 0]
    assert {d["method"] for d in details} == {"totp"}
    # A new password step gets a new token, and the code works there.
    fresh = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], code=code(ann.secret)
    )
    assert fresh.status_code == 200


async def test_an_expired_mfa_token_is_refused(client: AsyncClient, db_engine: AsyncEngine) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    async with db_engine.begin() as connection:  # five minutes later
        await connection.execute(
            text("UPDATE totp_challenges SET expires_at = now() - interval '1 second'")
        )

    response = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[0])

    assert (response.status_code, response.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/v1/users/me", {"password": "a different horse battery"}),
        ("PATCH", "/v1/users/me", {"email": "ann.new@example.com"}),
        ("DELETE", "/v1/users/me/sessions", None),
    ],
    ids=["password", "email", "everywhere else"],
)
async def test_a_pending_second_step_ends_with_a_sign_out_everywhere(
    client: AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    # Whoever passed the old password must not finish the login after the change.
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    if body is not None:
        body = {**body, "current_password": PASSWORD}

    changed = await client.request(method, path, json=body, headers=bearer(ann.token))
    response = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[0])

    assert changed.status_code in (200, 204), changed.text
    assert (response.status_code, response.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")


async def test_a_pending_second_step_ends_when_an_admin_deactivates_the_account(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    held = await password_step(client, ann.email)
    bob = await enrolled_user(client, "bob@example.com")
    bob_held = await password_step(client, bob.email)

    deactivated = await client.patch(
        f"/v1/users/{ann.user_id}", json={"is_active": False}, headers=bearer(superuser_token)
    )
    response = await second_step(client, held["mfa_token"], recovery_code=ann.recovery_codes[0])

    assert deactivated.status_code == 200, deactivated.text
    assert (response.status_code, response.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")
    bob_done = await second_step(client, bob_held["mfa_token"], recovery_code=bob.recovery_codes[0])
    assert bob_done.status_code == 200, bob_done.text  # others' logins are not touched


async def test_the_mfa_token_lifetime_is_a_setting(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOTP_MFA_TOKEN_TTL_SECONDS", "1")
    async with client_for(plugins=["totp"]) as short_lived:
        ann = await enrolled_user(short_lived)
        held = await password_step(short_lived, ann.email)
        await asyncio.sleep(1.1)
        late = await second_step(
            short_lived, held["mfa_token"], recovery_code=ann.recovery_codes[0]
        )

    assert held["expires_in"] == 1
    assert (late.status_code, late.json()["code"]) == (401, "TOTP_MFA_TOKEN_INVALID")


async def test_the_second_step_is_rate_limited_per_account(
    client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOTP_RATE_LIMIT_ATTEMPTS", "3/minute")
    async with client_for(plugins=["totp"], rate_limits_enabled=True) as limited:
        ann = await enrolled_user(limited)
        answers = []
        for _ in range(4):  # a new token each time: the token's own limit is not what stops it
            held = await password_step(limited, ann.email)
            answers.append(
                await second_step(limited, held["mfa_token"], code=wrong_code(ann.secret))
            )

    assert [r.status_code for r in answers] == [401, 401, 401, 429]
    assert (
        answers[3].json()["code"] == "TOTP_MANY_REQUESTS"
        or answers[3].json()["code"] == "TOO_MANY_REQUESTS"
    )
    assert int(answers[3].headers["retry-after"]) > 0


async def test_the_oauth2_form_login_of_an_enrolled_user_says_a_second_step_is_needed(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)

    response = await client.post(
        "/v1/users/login", data={"username": ann.email, "password": PASSWORD}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "LOGIN_SECOND_STEP_REQUIRED"
    assert "two-step" in response.json()["message"]
    assert "access_token" not in response.json()
    async with db_engine.connect() as connection:
        pending = await connection.scalar(text("SELECT count(*) FROM totp_challenges"))
    assert pending == 0  # the held login's token was rolled back with the answer


async def test_an_account_without_two_step_logs_in_with_the_password_alone(
    client: AsyncClient,
) -> None:
    await register(client, "bob@example.com")

    json_login = await client.post(
        "/v1/users/login", json={"email": "bob@example.com", "password": PASSWORD}
    )
    form_login = await client.post(
        "/v1/users/login", data={"username": "bob@example.com", "password": PASSWORD}
    )

    assert "access_token" in json_login.json() and "mfa_required" not in json_login.json()
    assert form_login.status_code == 200 and "access_token" in form_login.json()
