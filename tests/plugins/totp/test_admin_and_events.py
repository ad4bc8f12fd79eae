"""What admins see and can do about a user's two-step sign-in, and the events it emits."""

from typing import Any

from httpx import AsyncClient

from tests.conftest import PASSWORD, bearer, login, register
from tests.plugins import greeter
from tests.plugins.totp.conftest import enrolled_user, password_step, second_step


async def test_an_admin_sees_whether_a_user_has_two_step_on(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    bob = await register(client, "bob@example.com")

    on = await client.get(f"/v1/users/{ann.user_id}/mfa", headers=bearer(superuser_token))
    off = await client.get(f"/v1/users/{bob['id']}/mfa", headers=bearer(superuser_token))

    assert on.status_code == 200
    assert on.json()["totp"] is True and on.json()["recovery_codes_left"] == 10
    assert on.json()["enabled_at"] is not None
    assert off.json() == {"totp": False, "recovery_codes_left": 0, "enabled_at": None}
    assert ann.secret not in on.text


async def test_an_admin_resets_a_locked_out_user_and_ends_their_sessions(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    signed_in = (
        await second_step(
            client,
            (await password_step(client, ann.email))["mfa_token"],
            recovery_code=ann.recovery_codes[0],
        )
    ).json()

    reset = await client.delete(f"/v1/users/{ann.user_id}/mfa", headers=bearer(superuser_token))
    again = await client.delete(f"/v1/users/{ann.user_id}/mfa", headers=bearer(superuser_token))
    old_session = await client.get("/v1/users/me", headers=bearer(ann.token))
    refresh = await client.post(
        "/v1/users/refresh", json={"refresh_token": signed_in["refresh_token"]}
    )
    plain = await client.post("/v1/users/login", json={"email": ann.email, "password": PASSWORD})

    assert reset.status_code == 204
    assert (again.status_code, again.json()["code"]) == (409, "TOTP_NOT_ENABLED")
    assert old_session.status_code == 401
    assert refresh.status_code == 401
    assert "access_token" in plain.json()


async def test_only_superusers_see_or_reset_and_not_their_own(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    me = await client.get("/v1/users/me", headers=bearer(superuser_token))
    unknown = "00000000-0000-4000-8000-000000000000"

    as_user = await client.delete(f"/v1/users/{ann.user_id}/mfa", headers=bearer(ann.token))
    look_as_user = await client.get(f"/v1/users/{ann.user_id}/mfa", headers=bearer(ann.token))
    own = await client.delete(f"/v1/users/{me.json()['id']}/mfa", headers=bearer(superuser_token))
    missing = await client.delete(f"/v1/users/{unknown}/mfa", headers=bearer(superuser_token))
    look_missing = await client.get(f"/v1/users/{unknown}/mfa", headers=bearer(superuser_token))

    assert as_user.status_code == 403 and look_as_user.status_code == 403
    assert (own.status_code, own.json()["code"]) == (400, "TOTP_ADMIN_CANNOT_RESET_OWN")
    assert (missing.status_code, missing.json()["code"]) == (404, "USER_NOT_FOUND")
    assert look_missing.status_code == 404
    assert (await client.get("/v1/mfa", headers=bearer(ann.token))).json()["totp"] is True


async def test_mfa_events_reach_plugins_and_the_audit_log(
    client_for: Any, superuser_token: str
) -> None:
    greeter.seen_after_commit.clear()
    async with client_for(plugins=["totp", "tests.plugins.greeter"]) as both:
        ann = await enrolled_user(both)
        wrong = await second_step(
            both, (await password_step(both, ann.email))["mfa_token"], recovery_code="aaaaa-aaaaa"
        )
        await both.request(
            "DELETE", "/v1/mfa/totp", json={"current_password": PASSWORD}, headers=bearer(ann.token)
        )
        events = await both.get("/v1/users/me/events", headers=bearer(ann.token))
        admin = await login(both, "root@example.com")
        await enrolled_user(both, "cy@example.com")
        cy = (await both.get("/v1/users/", headers=bearer(admin))).json()
        cy_id = next(u["id"] for u in cy["items"] if u["email"] == "cy@example.com")
        await both.delete(f"/v1/users/{cy_id}/mfa", headers=bearer(admin))
        admin_log = await both.get(
            "/v1/audit-events", params={"user_id": cy_id}, headers=bearer(admin)
        )

    assert wrong.status_code == 401
    mfa_seen = [kind for kind in greeter.seen_after_commit if kind.startswith("mfa_")]
    assert mfa_seen == ["mfa_enabled", "mfa_failed", "mfa_disabled", "mfa_enabled", "mfa_disabled"]
    types = [event["type"] for event in events.json()["items"]]
    assert types[:3] == ["mfa_disabled", "mfa_failed", "mfa_enabled"]
    by_admin = admin_log.json()["items"][0]
    assert by_admin["type"] == "mfa_disabled"
    assert by_admin["detail"] == {"by": "admin", "email": "cy@example.com"}
    assert by_admin["actor_id"] != cy_id


async def test_superusers_filter_the_audit_log_by_the_plugins_event_types(
    client: AsyncClient, superuser_token: str
) -> None:
    ann = await enrolled_user(client)
    await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], recovery_code="aaaaa-aaaaa"
    )

    failed = await client.get(
        "/v1/audit-events", params={"type": "mfa_failed"}, headers=bearer(superuser_token)
    )
    enabled = await client.get(
        "/v1/audit-events", params={"type": "mfa_enabled"}, headers=bearer(superuser_token)
    )
    unknown = await client.get(
        "/v1/audit-events", params={"type": "mfa_exploded"}, headers=bearer(superuser_token)
    )

    assert failed.status_code == 200, failed.text
    assert [(e["type"], e["user_id"]) for e in failed.json()["items"]] == [
        ("mfa_failed", str(ann.user_id))
    ]
    assert [e["type"] for e in enabled.json()["items"]] == ["mfa_enabled"]
    assert (unknown.status_code, unknown.json()["code"]) == (422, "VALIDATION_ERROR")
    assert unknown.json()["errors"][0]["field"] == "query.type"
