"""The contract against the real web process from the Procfile (production mode, two
workers, PLUGINS=totp, a TOTP_ENCRYPTION_KEY): every step of a user's two-step life."""

import secrets
import time

import httpx
import pyotp

from tests.conftest import PASSWORD
from tests.live_server import ProcfileServer, procfile_server_for_module, unique_email

server = procfile_server_for_module(
    PLUGINS="totp", WEB_CONCURRENCY="2", TOTP_ENCRYPTION_KEY=secrets.token_urlsafe(32)
)


def code(secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def clear_of_step_boundary() -> None:
    left = 30 - time.time() % 30
    if left < 2:
        time.sleep(left + 0.05)


def test_two_step_sign_in_from_enrolment_to_turning_it_off(server: ProcfileServer) -> None:
    email = unique_email("totp")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.post("/v1/users/", json={"email": email, "password": PASSWORD}).is_success
        credentials = {"email": email, "password": PASSWORD}
        token = client.post("/v1/users/login", json=credentials).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        enrolment = client.post(
            "/v1/mfa/totp/enroll", json={"current_password": PASSWORD}, headers=auth
        ).json()
        secret = enrolment["secret"]
        assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
        clear_of_step_boundary()
        activated = client.post(
            "/v1/mfa/totp/activate", json={"code": code(secret, -1)}, headers=auth
        )
        assert activated.status_code == 200, activated.text
        recovery = activated.json()["recovery_codes"]
        assert client.get("/v1/mfa", headers=auth).json() == {
            "totp": True,
            "recovery_codes_left": 10,
        }

        held = client.post(
            "/v1/users/login", json=credentials, headers={"X-Refresh-Token-Delivery": "cookie"}
        )
        assert held.status_code == 200
        assert set(held.json()) == {"mfa_required", "mfa_token", "methods", "expires_in"}
        assert "set-cookie" not in held.headers
        mfa_token = held.json()["mfa_token"]

        wrong = client.post("/v1/users/login/mfa", json={"mfa_token": mfa_token, "code": "abc"})
        assert wrong.status_code == 422
        clear_of_step_boundary()
        current = code(secret)
        signed_in = client.post(
            "/v1/users/login/mfa",
            json={"mfa_token": mfa_token, "code": current},
            headers={"X-Refresh-Token-Delivery": "cookie"},
        )
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.headers["set-cookie"].startswith("refresh_token=")
        access = signed_in.json()["access_token"]
        me = client.get("/v1/users/me", headers={"Authorization": f"Bearer {access}"})
        assert me.json()["email"] == email

        again = client.post("/v1/users/login", json=credentials).json()["mfa_token"]
        replay = client.post("/v1/users/login/mfa", json={"mfa_token": again, "code": current})
        assert (replay.status_code, replay.json()["code"]) == (401, "TOTP_CODE_INVALID")
        by_recovery = client.post(
            "/v1/users/login/mfa", json={"mfa_token": again, "recovery_code": recovery[0]}
        )
        assert by_recovery.status_code == 200

        form = client.post("/v1/users/login", data={"username": email, "password": PASSWORD})
        assert (form.status_code, form.json()["code"]) == (400, "LOGIN_SECOND_STEP_REQUIRED")
        bad = client.post("/v1/users/login", json={**credentials, "password": "wrong password"})
        nobody = client.post(
            "/v1/users/login", json={"email": unique_email("nobody"), "password": "wrong password"}
        )
        assert (bad.status_code, bad.json()) == (nobody.status_code, nobody.json())

        turned_off = client.request(
            "DELETE",
            "/v1/mfa/totp",
            json={"current_password": PASSWORD},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert turned_off.status_code == 204
        assert client.get("/v1/users/me", headers=auth).status_code == 401  # another session
        assert "access_token" in client.post("/v1/users/login", json=credentials).json()
