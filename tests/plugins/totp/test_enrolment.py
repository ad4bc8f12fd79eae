"""Enrolment, activation, recovery codes and turning two-step off (the signed-in user's side)."""

from urllib.parse import parse_qs, urlparse

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import PASSWORD, bearer, login, register
from tests.plugins.totp.conftest import (
    base32_bytes,
    clear_of_step_boundary,
    code,
    enroll,
    enrolled_user,
    password_step,
    second_step,
)


async def test_status_of_a_new_account_is_off(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    response = await client.get("/v1/mfa", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {"totp": False, "recovery_codes_left": 0}


async def test_enroll_answers_a_160_bit_secret_its_otpauth_uri_and_a_qr_code(
    client: AsyncClient,
) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    body = await enroll(client, token)

    assert base32_bytes(body["secret"]) == 20
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == "/Auth%20service:ann%40example.com"
    query = parse_qs(uri.query)
    assert query["secret"] == [body["secret"]]
    assert query["issuer"] == ["Auth service"]
    assert body["qr_svg"].startswith("<svg") and "</svg>" in body["qr_svg"]
    # Nothing is on until a code confirms the secret.
    status = await client.get("/v1/mfa", headers=bearer(token))
    assert status.json()["totp"] is False
    plain = await client.post(
        "/v1/users/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert "access_token" in plain.json()


async def test_enroll_needs_the_current_password(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    wrong = await client.post(
        "/v1/mfa/totp/enroll", json={"current_password": "not it at all"}, headers=bearer(token)
    )
    missing = await client.post("/v1/mfa/totp/enroll", json={}, headers=bearer(token))
    anonymous = await client.post("/v1/mfa/totp/enroll", json={"current_password": PASSWORD})

    assert (wrong.status_code, wrong.json()["code"]) == (400, "CURRENT_PASSWORD_INVALID")
    assert (missing.status_code, missing.json()["code"]) == (400, "CURRENT_PASSWORD_REQUIRED")
    assert anonymous.status_code == 401


async def test_enrolling_again_replaces_an_unconfirmed_secret(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    first = (await enroll(client, token))["secret"]
    second = (await enroll(client, token))["secret"]
    await clear_of_step_boundary()

    old = await client.post(
        "/v1/mfa/totp/activate", json={"code": code(first)}, headers=bearer(token)
    )
    new = await client.post(
        "/v1/mfa/totp/activate", json={"code": code(second)}, headers=bearer(token)
    )

    assert first != second
    assert (old.status_code, old.json()["code"]) == (400, "TOTP_CODE_INVALID")
    assert new.status_code == 200


async def test_activate_with_a_wrong_code_is_400_and_turns_nothing_on(
    client: AsyncClient,
) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")
    secret = (await enroll(client, token))["secret"]
    await clear_of_step_boundary()
    wrong = f"{(int(code(secret)) + 1) % 1_000_000:06d}"

    response = await client.post(
        "/v1/mfa/totp/activate", json={"code": wrong}, headers=bearer(token)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "TOTP_CODE_INVALID"
    assert (await client.get("/v1/mfa", headers=bearer(token))).json()["totp"] is False


async def test_activate_before_enrolling_is_409(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    response = await client.post(
        "/v1/mfa/totp/activate", json={"code": "123456"}, headers=bearer(token)
    )

    assert (response.status_code, response.json()["code"]) == (409, "TOTP_NOT_ENROLLED")


async def test_activation_answers_ten_recovery_codes_once_and_turns_two_step_on(
    client: AsyncClient,
) -> None:
    ann = await enrolled_user(client)

    status = await client.get("/v1/mfa", headers=bearer(ann.token))
    again = await client.post(
        "/v1/mfa/totp/enroll", json={"current_password": PASSWORD}, headers=bearer(ann.token)
    )

    assert len(ann.recovery_codes) == 10 and len(set(ann.recovery_codes)) == 10
    assert status.json() == {"totp": True, "recovery_codes_left": 10}
    assert (again.status_code, again.json()["code"]) == (409, "TOTP_ALREADY_ENABLED")
    assert ann.secret not in status.text


async def test_secret_is_encrypted_at_rest_and_recovery_codes_are_hashed(
    client: AsyncClient, db_engine: AsyncEngine
) -> None:
    ann = await enrolled_user(client)

    async with db_engine.connect() as connection:
        sealed = (
            await connection.execute(text("SELECT sealed_secret FROM totp_credentials"))
        ).scalar_one()
        digests = (
            (await connection.execute(text("SELECT digest FROM totp_recovery_codes")))
            .scalars()
            .all()
        )

    assert ann.secret.encode() not in sealed and len(sealed) >= 12 + 32 + 16  # nonce, text, tag
    assert len(digests) == 10
    plain = {c.replace("-", "") for c in ann.recovery_codes}
    assert not plain & set(digests) and all(len(d) == 64 for d in digests)


async def test_regenerated_recovery_codes_replace_the_old_ones(client: AsyncClient) -> None:
    ann = await enrolled_user(client)

    wrong = await client.post(
        "/v1/mfa/recovery-codes", json={"current_password": "nope nope"}, headers=bearer(ann.token)
    )
    response = await client.post(
        "/v1/mfa/recovery-codes", json={"current_password": PASSWORD}, headers=bearer(ann.token)
    )
    fresh = response.json()["recovery_codes"]
    old_try = await second_step(
        client,
        (await password_step(client, ann.email))["mfa_token"],
        recovery_code=ann.recovery_codes[0],
    )
    new_try = await second_step(
        client, (await password_step(client, ann.email))["mfa_token"], recovery_code=fresh[0]
    )

    assert (wrong.status_code, wrong.json()["code"]) == (400, "CURRENT_PASSWORD_INVALID")
    assert response.status_code == 200 and len(fresh) == 10
    assert not set(fresh) & set(ann.recovery_codes)
    assert (old_try.status_code, old_try.json()["code"]) == (401, "TOTP_CODE_INVALID")
    assert new_try.status_code == 200 and "access_token" in new_try.json()


async def test_recovery_codes_need_two_step_on(client: AsyncClient) -> None:
    await register(client, "ann@example.com")
    token = await login(client, "ann@example.com")

    response = await client.post(
        "/v1/mfa/recovery-codes", json={"current_password": PASSWORD}, headers=bearer(token)
    )

    assert (response.status_code, response.json()["code"]) == (409, "TOTP_NOT_ENABLED")


async def test_disable_needs_the_password_and_signs_out_the_other_sessions(
    client: AsyncClient,
) -> None:
    ann = await enrolled_user(client)  # ann.token: a session from before two-step was on
    held = await password_step(client, ann.email)
    await clear_of_step_boundary()
    current = (await second_step(client, held["mfa_token"], code=code(ann.secret))).json()

    wrong = await client.request(
        "DELETE",
        "/v1/mfa/totp",
        json={"current_password": "nope nope"},
        headers=bearer(current["access_token"]),
    )
    response = await client.request(
        "DELETE",
        "/v1/mfa/totp",
        json={"current_password": PASSWORD},
        headers=bearer(current["access_token"]),
    )
    again = await client.request(
        "DELETE",
        "/v1/mfa/totp",
        json={"current_password": PASSWORD},
        headers=bearer(current["access_token"]),
    )
    other = await client.get("/v1/users/me", headers=bearer(ann.token))
    this = await client.get("/v1/mfa", headers=bearer(current["access_token"]))
    plain = await client.post("/v1/users/login", json={"email": ann.email, "password": PASSWORD})

    assert (wrong.status_code, wrong.json()["code"]) == (400, "CURRENT_PASSWORD_INVALID")
    assert response.status_code == 204
    assert (again.status_code, again.json()["code"]) == (409, "TOTP_NOT_ENABLED")
    assert other.status_code == 401
    assert this.json() == {"totp": False, "recovery_codes_left": 0}
    assert "access_token" in plain.json()
