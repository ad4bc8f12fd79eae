"""Steps of a QR sign-in, shared by the in-process and the Procfile tests."""

import re
from typing import Any

import httpx

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
DESKTOP = "Desktop browser/1.0"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/qr-login/start", json=body or None, headers={"User-Agent": DESKTOP}
    )
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


async def poll(client: httpx.AsyncClient, device_code: str, **headers: str) -> httpx.Response:
    return await client.post(
        "/v1/qr-login/token",
        json={"device_code": device_code},
        headers={"User-Agent": DESKTOP, **headers},
    )


async def decide(client: httpx.AsyncClient, token: str, user_code: str, how: str) -> int:
    response = await client.post(f"/v1/qr-login/requests/{user_code}/{how}", headers=bearer(token))
    return response.status_code


def error_of(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"].startswith("QR_LOGIN_") and body["message"], body
    error: str = body["error"]
    return error
