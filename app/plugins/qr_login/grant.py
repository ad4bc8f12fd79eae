"""Handing out the tokens of an approved request: `POST /v1/qr-login/token`, and RFC 8628's
device code grant at the host's OAuth 2.0 token endpoint (`POST /v1/oauth/token`)."""

from typing import Literal

from fastapi.responses import JSONResponse

from app.plugins.api import Client, GrantRequest, Limiter, SignIn, address_key
from app.plugins.qr_login import errors
from app.plugins.qr_login.schemas import DEVICE_CODE_LENGTH
from app.plugins.qr_login.service import QrLoginService
from app.plugins.qr_login.settings import QrLoginSettings


async def redeem(
    device_code: str,
    *,
    service: QrLoginService,
    settings: QrLoginSettings,
    limiter: Limiter,
    sign_in: SignIn,
    client: Client,
    delivery: Literal["body", "cookie"],
) -> JSONResponse:
    """The tokens, once, for an approved request (a session of the approver with the
    method `qr`); otherwise raises the RFC 8628 error to answer."""
    address = address_key(client.ip_address or "unknown")
    await limiter.hit(settings.rate_limit_polls, "qr_login:poll", address)
    approved = await service.poll(device_code)
    answer = await sign_in.start(
        approved.approver_id, method="qr", client=approved.client, delivery=delivery
    )
    if answer is None:  # the approver's account was deactivated in between
        raise errors.AccessDenied()
    return answer


class DeviceCodeGrant:
    """`grant_type=urn:ietf:params:oauth:grant-type:device_code` with `device_code`: the
    same polls, limits and answers as `POST /v1/qr-login/token`."""

    def __init__(self, settings: QrLoginSettings) -> None:
        self.settings = settings

    async def __call__(self, grant: GrantRequest) -> JSONResponse:
        return await redeem(
            grant.param("device_code", max_length=DEVICE_CODE_LENGTH),
            service=QrLoginService(grant.session, self.settings),
            settings=self.settings,
            limiter=grant.limiter,
            sign_in=grant.sign_in,
            client=grant.client,
            delivery="body",
        )
