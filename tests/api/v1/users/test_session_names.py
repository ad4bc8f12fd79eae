"""The devices list: names users give their sessions, how each began, a readable device."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import PASSWORD, bearer, login, register

SESSIONS = "/v1/users/me/sessions"
CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


async def sign_in(client: AsyncClient, email: str, user_agent: str) -> str:
    response = await client.post(
        "/v1/users/login",
        json={"email": email, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def my_sessions(client: AsyncClient, token: str) -> list[dict[str, Any]]:
    response = await client.get(SESSIONS, headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


@pytest.fixture
async def ann(client: AsyncClient) -> str:
    await register(client, "ann@example.com")
    return await sign_in(client, "ann@example.com", CHROME_ON_LINUX)


async def test_sessions_show_method_device_and_no_name_at_first(
    client: AsyncClient, ann: str
) -> None:
    await sign_in(client, "ann@example.com", "curl/8.4.0")

    items = await my_sessions(client, ann)

    assert {(item["device"], item["method"], item["name"]) for item in items} == {
        ("Chrome 131 on Linux", "password", None),
        ("curl 8.4.0", "password", None),
    }
    assert set(items[0]) == {
        "id",
        "name",
        "method",
        "device",
        "created_at",
        "last_used_at",
        "expires_at",
        "user_agent",
        "ip_address",
        "current",
    }


async def test_renaming_a_session_trims_the_name_and_lists_it(
    client: AsyncClient, ann: str
) -> None:
    [mine] = await my_sessions(client, ann)

    response = await client.patch(
        f"{SESSIONS}/{mine['id']}", json={"name": "  Work laptop "}, headers=bearer(ann)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {**mine, "name": "Work laptop"}
    assert (await my_sessions(client, ann))[0]["name"] == "Work laptop"


@pytest.mark.parametrize("cleared", [None, "", "   ", "\u200b\u200b", "\ufeff", "\u3164"])
async def test_null_or_blank_name_removes_it(
    client: AsyncClient, ann: str, cleared: str | None
) -> None:
    [mine] = await my_sessions(client, ann)
    url = f"{SESSIONS}/{mine['id']}"
    await client.patch(url, json={"name": "Phone"}, headers=bearer(ann))

    response = await client.patch(url, json={"name": cleared}, headers=bearer(ann))

    assert response.status_code == 200
    assert response.json()["name"] is None


async def test_a_64_character_name_is_kept_whole(client: AsyncClient, ann: str) -> None:
    [mine] = await my_sessions(client, ann)

    response = await client.patch(
        f"{SESSIONS}/{mine['id']}", json={"name": "é" * 64}, headers=bearer(ann)
    )

    assert response.json()["name"] == "é" * 64


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x" * 65},
        {"name": "bell\x07"},
        {"name": "two\nlines"},
        {"name": "nul\x00"},
        {"name": 42},
        {},
        {"name": "ok", "other": 1},
    ],
    ids=["too-long", "control", "newline-inside", "nul", "not-a-string", "missing", "extra"],
)
async def test_a_bad_name_is_422_and_changes_nothing(
    client: AsyncClient, ann: str, body: dict[str, Any]
) -> None:
    [mine] = await my_sessions(client, ann)

    response = await client.patch(f"{SESSIONS}/{mine['id']}", json=body, headers=bearer(ann))

    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert (await my_sessions(client, ann))[0]["name"] is None


@pytest.mark.parametrize(
    "name",
    [
        "\u202eevil",  # right-to-left override: shows as "live" reversed
        "a\u2066b",  # isolate
        "\u200f",  # right-to-left mark alone
        "two\u2028lines",  # line separator inside
        "c1\x9bcontrol",
    ],
    ids=["rlo", "isolate", "rlm", "line-separator", "c1"],
)
async def test_a_name_that_would_not_read_as_typed_is_422(
    client: AsyncClient, ann: str, name: str
) -> None:
    """The list is where people spot a device they don't know: names show as they are."""
    [mine] = await my_sessions(client, ann)

    response = await client.patch(
        f"{SESSIONS}/{mine['id']}", json={"name": name}, headers=bearer(ann)
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "name", "message": "Contains characters that are not allowed here."}
    ]
    assert (await my_sessions(client, ann))[0]["name"] is None


async def test_a_too_long_name_is_refused_in_our_words(client: AsyncClient, ann: str) -> None:
    [mine] = await my_sessions(client, ann)

    response = await client.patch(
        f"{SESSIONS}/{mine['id']}", json={"name": "x" * 65}, headers=bearer(ann)
    )

    # Not pydantic's "Value error, A device name ...".
    assert response.json()["errors"] == [
        {"field": "name", "message": "A device name has at most 64 characters."}
    ]


@pytest.mark.parametrize("name", ["👩\u200d💻 laptop", "Ana’s phone", "שלום", "Ordinateur de Zoé"])
async def test_names_in_any_script_and_emoji_sequences_are_kept(
    client: AsyncClient, ann: str, name: str
) -> None:
    [mine] = await my_sessions(client, ann)

    response = await client.patch(
        f"{SESSIONS}/{mine['id']}", json={"name": name}, headers=bearer(ann)
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == name


async def test_renaming_an_unknown_session_is_404(client: AsyncClient, ann: str) -> None:
    response = await client.patch(
        f"{SESSIONS}/{uuid.uuid4()}", json={"name": "Mine"}, headers=bearer(ann)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "SESSION_NOT_FOUND"


async def test_renaming_someone_elses_session_is_404_and_leaves_it(
    client: AsyncClient, ann: str
) -> None:
    await register(client, "bob@example.com")
    bob = await login(client, "bob@example.com")
    [bobs] = await my_sessions(client, bob)

    response = await client.patch(
        f"{SESSIONS}/{bobs['id']}", json={"name": "Stolen"}, headers=bearer(ann)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "SESSION_NOT_FOUND"
    assert (await my_sessions(client, bob))[0]["name"] is None


async def test_renaming_an_ended_session_is_404(client: AsyncClient, ann: str) -> None:
    other = await sign_in(client, "ann@example.com", "curl/8.4.0")
    [other_session] = [item for item in await my_sessions(client, other) if item["current"]]
    await client.delete(f"{SESSIONS}/{other_session['id']}", headers=bearer(ann))

    response = await client.patch(
        f"{SESSIONS}/{other_session['id']}", json={"name": "Gone"}, headers=bearer(ann)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "SESSION_NOT_FOUND"


async def test_renaming_needs_a_signed_in_user(client: AsyncClient, ann: str) -> None:
    response = await client.patch(f"{SESSIONS}/{uuid.uuid4()}", json={"name": "Mine"})

    assert response.status_code == 401
