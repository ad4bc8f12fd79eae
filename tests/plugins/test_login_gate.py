"""The host's login gate: a plugin may hold a correct-password login back."""

from typing import Any

from tests.conftest import PASSWORD, register
from tests.plugins import gated


async def test_a_gate_is_asked_only_after_a_correct_password(client_for: Any) -> None:
    gated.asked.clear()
    async with client_for(plugins=["tests.plugins.gated"]) as client:
        await register(client, "held-dict@example.com")
        wrong = await client.post(
            "/v1/users/login", json={"email": "held-dict@example.com", "password": "wrong one"}
        )
        unknown = await client.post(
            "/v1/users/login", json={"email": "nobody@example.com", "password": PASSWORD}
        )
        right = await client.post(
            "/v1/users/login", json={"email": "held-dict@example.com", "password": PASSWORD}
        )

    assert wrong.json()["code"] == unknown.json()["code"] == "LOGIN_BAD_CREDENTIALS"
    assert gated.asked == ["held-dict@example.com"]
    assert (right.status_code, right.json()) == (200, {"held": True})
    assert right.headers["cache-control"] == "no-store"


async def test_a_gate_answers_with_its_own_response_or_lets_the_login_through(
    client_for: Any,
) -> None:
    async with client_for(plugins=["tests.plugins.gated"]) as client:
        await register(client, "held-response@example.com")
        await register(client, "free@example.com")
        held = await client.post(
            "/v1/users/login", json={"email": "held-response@example.com", "password": PASSWORD}
        )
        free = await client.post(
            "/v1/users/login", json={"email": "free@example.com", "password": PASSWORD}
        )

    assert (held.status_code, held.text) == (202, "held")
    assert "set-cookie" not in held.headers
    assert "access_token" in free.json()


async def test_the_oauth2_form_can_not_show_a_held_login(client_for: Any) -> None:
    async with client_for(plugins=["tests.plugins.gated"]) as client:
        await register(client, "held-dict@example.com")
        form = await client.post(
            "/v1/users/login", data={"username": "held-dict@example.com", "password": PASSWORD}
        )

    assert form.status_code == 400
    assert form.json()["code"] == "LOGIN_SECOND_STEP_REQUIRED"
