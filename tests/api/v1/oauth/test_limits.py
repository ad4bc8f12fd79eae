"""The password grant is POST /v1/users/login's sign-in: the same limits and lockout."""

from collections.abc import Callable
from typing import Any

from tests.api.v1.oauth.conftest import TOKEN_URL, oauth_error
from tests.conftest import PASSWORD, register

LOGIN = "/v1/users/login"
WRONG = "wrong password"


def grant(password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": "ann@example.com", "password": password}


async def test_wrong_passwords_get_429_with_retry_after(client_for: Callable[..., Any]) -> None:
    async with client_for(rate_limits_enabled=True, rate_limit_login_failures="3/minute") as c:
        await register(c, "ann@example.com")

        answers = [await c.post(TOKEN_URL, data=grant(WRONG)) for _ in range(4)]

        assert [a.json()["error"] for a in answers[:3]] == ["invalid_grant"] * 3
        limited = oauth_error(answers[3], 429)
        assert (limited["error"], limited["code"]) == (
            "temporarily_unavailable",
            "TOO_MANY_REQUESTS",
        )
        assert int(answers[3].headers["retry-after"]) > 0
        # The right password is refused too while the account is locked from here.
        assert (await c.post(TOKEN_URL, data=grant(PASSWORD))).status_code == 429


async def test_guesses_at_the_token_endpoint_lock_the_login_route_and_back(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(rate_limits_enabled=True, rate_limit_login_failures="3/minute") as c:
        await register(c, "ann@example.com")
        await register(c, "bob@example.com")

        for _ in range(3):
            await c.post(TOKEN_URL, data=grant(WRONG))
        for _ in range(3):
            await c.post(LOGIN, json={"email": "bob@example.com", "password": WRONG})

        ann_login = await c.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
        bob_grant = await c.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "bob@example.com", "password": PASSWORD},
        )
        assert ann_login.status_code == 429
        assert oauth_error(bob_grant, 429)["code"] == "TOO_MANY_REQUESTS"


async def test_a_right_password_at_either_clears_the_count_for_both(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(rate_limits_enabled=True, rate_limit_login_failures="3/minute") as c:
        await register(c, "ann@example.com")
        for _ in range(2):
            await c.post(TOKEN_URL, data=grant(WRONG))

        ok = await c.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
        again = [await c.post(TOKEN_URL, data=grant(WRONG)) for _ in range(3)]

        assert ok.status_code == 200
        assert [a.status_code for a in again] == [400, 400, 400]


async def test_the_password_grant_counts_against_the_per_address_limit(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(rate_limits_enabled=True, rate_limit_per_address="3/minute") as c:
        answers = [
            await c.post(
                TOKEN_URL,
                data={"grant_type": "password", "username": f"u{n}@example.com", "password": "x"},
            )
            for n in range(4)
        ]

        assert [a.status_code for a in answers] == [400, 400, 400, 429]
        assert "retry-after" in answers[3].headers


async def test_the_login_form_answers_its_429_with_the_oauth_fields_too(
    client_for: Callable[..., Any],
) -> None:
    async with client_for(rate_limits_enabled=True, rate_limit_login_failures="1/minute") as c:
        await register(c, "ann@example.com")
        form = {"username": "ann@example.com", "password": WRONG}

        first = await c.post(LOGIN, data=form)
        second = await c.post(LOGIN, data=form)

        assert first.status_code == 400
        assert (first.json()["error"], first.json()["code"]) == (
            "invalid_grant",
            "LOGIN_BAD_CREDENTIALS",
        )
        assert second.status_code == 429 and second.json()["error"] == "temporarily_unavailable"
        assert "retry-after" in second.headers
