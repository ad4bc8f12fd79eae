"""POST /v1/oauth/token with raw requests: every error RFC 6749 §5.2 names, never a 422/500."""

import base64
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.v1.oauth.conftest import TOKEN_URL, oauth_error
from tests.conftest import PASSWORD, bearer, register
from tests.observability.conftest import metric_value

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def password_grant(client: AsyncClient, password: str = PASSWORD, **extra: str) -> Response:
    form = {"grant_type": "password", "username": "ann@example.com", "password": password}
    return await client.post(TOKEN_URL, data={**form, **extra})


async def test_a_signed_in_answer_is_not_cached_and_matches_login(client: AsyncClient) -> None:
    await register(client, "ann@example.com")

    response = await password_grant(client, client_id="my-app", scope="ignored")

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"grant_type": "password", "username": "a@b.co", "password": "x"}'),
        ("text/plain", b"grant_type=password"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
        ("", b"grant_type=password"),
        ("application/x-www-form-urlencoded", b"\xff\xfe\xfd"),
        ("application/x-www-form-urlencoded", b"grant_type=%ff%fe"),
        ("application/x-www-form-urlencoded", b"=&&=&grant_type"),
        ("application/x-www-form-urlencoded", b"grant_type"),
        ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 100)),
        ("application/x-www-form-urlencoded", b""),
        ("application/x-www-form-urlencoded", b"grant_type="),
        ("application/x-www-form-urlencoded", b"username=ann%40example.com&password=x"),
    ],
)
async def test_json_garbage_and_missing_grant_type_are_invalid_request(
    client: AsyncClient, content_type: str, body: bytes
) -> None:
    response = await client.post(TOKEN_URL, content=body, headers={"Content-Type": content_type})

    assert oauth_error(response)["error"] == "invalid_request"


async def test_no_body_at_all_is_invalid_request(client: AsyncClient) -> None:
    assert oauth_error(await client.post(TOKEN_URL))["code"] == "OAUTH_INVALID_REQUEST"


@pytest.mark.parametrize(
    "body",
    [
        "grant_type=password&grant_type=password&username=ann%40example.com&password=x",
        "grant_type=password&username=a%40b.co&username=ann%40example.com&password=x",
        "grant_type=refresh_token&refresh_token=a&refresh_token=",
    ],
)
async def test_a_repeated_parameter_is_invalid_request(client: AsyncClient, body: str) -> None:
    await register(client, "ann@example.com")

    response = await client.post(TOKEN_URL, content=body, headers=FORM)

    assert "repeat" in oauth_error(response)["error_description"]


@pytest.mark.parametrize(
    ("form", "missing"),
    [
        ({"grant_type": "password", "username": "ann@example.com"}, "password"),
        ({"grant_type": "password", "password": PASSWORD}, "username"),
        ({"grant_type": "password", "username": "ann@example.com", "password": ""}, "password"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
    ],
)
async def test_a_missing_parameter_is_invalid_request_naming_it(
    client: AsyncClient, form: dict[str, str], missing: str
) -> None:
    body = oauth_error(await client.post(TOKEN_URL, data=form))

    assert body["error"] == "invalid_request"
    assert missing in body["error_description"]


@pytest.mark.parametrize(
    "form",
    [
        {"username": "ann\x00@example.com", "password": PASSWORD},
        {"username": "a" * 400 + "@example.com", "password": PASSWORD},
        {"username": "ann@example.com", "password": "p" * 2000},
    ],
)
async def test_malformed_credentials_are_invalid_request(
    client: AsyncClient, form: dict[str, str]
) -> None:
    response = await client.post(TOKEN_URL, data={"grant_type": "password", **form})

    assert oauth_error(response)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "grant_type",
    [
        "authorization_code",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",  # qr_login is off in this app
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "PASSWORD",
    ],
)
async def test_unknown_grant_types_are_unsupported_grant_type(
    client: AsyncClient, grant_type: str
) -> None:
    response = await client.post(TOKEN_URL, data={"grant_type": grant_type, "device_code": "x"})

    body = oauth_error(response)
    assert (body["error"], body["code"]) == (
        "unsupported_grant_type",
        "OAUTH_UNSUPPORTED_GRANT_TYPE",
    )


def basic(credentials: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


@pytest.mark.parametrize(
    ("extra", "headers"),
    [
        ({"client_secret": "s3cret"}, {}),
        ({"client_assertion": "eyJ", "client_assertion_type": "urn:x"}, {}),
        ({}, basic("my-app:s3cret")),
        ({}, basic("my-app")),
        ({}, {"Authorization": "Basic not base64!"}),
    ],
)
async def test_client_credentials_we_cannot_check_are_invalid_client(
    client: AsyncClient, extra: dict[str, str], headers: dict[str, str]
) -> None:
    await register(client, "ann@example.com")
    form = {"grant_type": "password", "username": "ann@example.com", "password": PASSWORD}

    response = await client.post(TOKEN_URL, data={**form, **extra}, headers=headers)

    body = oauth_error(response, 401)
    assert (body["error"], body["code"]) == ("invalid_client", "OAUTH_INVALID_CLIENT")
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_a_public_client_may_send_its_id_in_basic_auth_with_no_secret(
    client: AsyncClient,
) -> None:
    await register(client, "ann@example.com")

    response = await password_grant_with(client, basic("my-app:"))

    assert response.status_code == 200, response.text


async def password_grant_with(client: AsyncClient, headers: dict[str, str]) -> Response:
    form = {"grant_type": "password", "username": "ann@example.com", "password": PASSWORD}
    return await client.post(TOKEN_URL, data=form, headers=headers)


async def test_wrong_password_unknown_email_and_inactive_account_look_alike(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    await register(client, "ann@example.com")
    await register(client, "off@example.com")
    async with db_engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_active = false WHERE email = 'off@example.com'")
        )

    answers = [
        await password_grant(client, "wrong password"),
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "nobody@example.com", "password": "x"},
        ),
        await client.post(
            TOKEN_URL,
            data={"grant_type": "password", "username": "off@example.com", "password": PASSWORD},
        ),
    ]

    bodies = [oauth_error(answer) for answer in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert (bodies[0]["error"], bodies[0]["code"]) == ("invalid_grant", "LOGIN_BAD_CREDENTIALS")


async def test_the_password_grant_records_the_same_events_as_login(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    await register(client, "bob@example.com")

    await password_grant(client, "wrong password")
    ann = (await password_grant(client)).json()["access_token"]
    for password in ("wrong password", PASSWORD):
        bob_login = await client.post(
            "/v1/users/login", json={"email": "bob@example.com", "password": password}
        )
    bob = bob_login.json()["access_token"]

    ann_events = await client.get("/v1/users/me/events", headers=bearer(ann))
    bob_events = await client.get("/v1/users/me/events", headers=bearer(bob))
    ann_types = [event["type"] for event in ann_events.json()["items"]]
    assert ann_types == [event["type"] for event in bob_events.json()["items"]]
    assert {"login_failed", "login_succeeded"} <= set(ann_types)


@pytest.mark.parametrize("refresh_token", ["unknown", "x" * 43, "x" * 129])
async def test_an_unknown_refresh_token_is_invalid_grant_not_401(
    client: AsyncClient, refresh_token: str
) -> None:
    response = await client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )

    body = oauth_error(response)
    assert body["error"] in {"invalid_grant", "invalid_request"}
    if len(refresh_token) <= 128:
        assert (body["error"], body["code"]) == ("invalid_grant", "REFRESH_TOKEN_INVALID")


async def test_refresh_keeps_the_grace_window_of_users_refresh(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    first = (await password_grant(client)).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": first}

    one = await client.post(TOKEN_URL, data=form)
    two = await client.post(TOKEN_URL, data=form)  # a second tab, within the window

    assert one.status_code == two.status_code == 200
    assert one.json()["refresh_token"] == two.json()["refresh_token"]


async def test_a_refresh_token_reused_after_the_grace_window_ends_the_session(
    client_for: Any,
) -> None:
    async with client_for(refresh_reuse_grace_seconds=0) as strict:
        await register(strict, "ann@example.com")
        first = (await password_grant(strict)).json()
        form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        renewed = (await strict.post(TOKEN_URL, data=form)).json()

        reused = await strict.post(TOKEN_URL, data=form)

        assert oauth_error(reused)["error"] == "invalid_grant"
        # Theft detection: the whole session ended, the new pair with it.
        me = await strict.get("/v1/users/me", headers=bearer(renewed["access_token"]))
        assert me.status_code == 401
        after = await strict.post(
            TOKEN_URL,
            data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        )
        assert oauth_error(after)["error"] == "invalid_grant"


async def test_users_refresh_tokens_and_oauth_refresh_tokens_are_one_kind(
    client: AsyncClient,
) -> None:
    await register(client, "ann@example.com")
    login = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )

    response = await client.post(
        TOKEN_URL,
        data={"grant_type": "refresh_token", "refresh_token": login.json()["refresh_token"]},
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_are_405_and_not_cached_either(
    client: AsyncClient, method: str
) -> None:
    response = await client.request(method, TOKEN_URL)

    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_a_body_over_the_cap_is_413_and_not_cached(client: AsyncClient) -> None:
    response = await client.post(TOKEN_URL, content=b"a=" + b"x" * 70_000, headers=FORM)

    assert response.status_code == 413
    assert response.headers["cache-control"] == "no-store"


async def test_the_password_grant_moves_the_login_counters(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    before = (await client.get("/metrics")).text

    await password_grant(client, "wrong password")
    await password_grant(client)
    after = (await client.get("/metrics")).text

    def moved(outcome: str) -> float:
        sample = "auth_logins_total"
        return metric_value(after, sample, outcome=outcome) - metric_value(
            before, sample, outcome=outcome
        )

    assert (moved("bad_credentials"), moved("success")) == (1, 1)
