"""How tokens travel: the refresh token in the JSON body, or in an HttpOnly cookie for browsers.

Browsers ask for the cookie with `X-Refresh-Token-Delivery: cookie`; script on the page then
never sees the refresh token. A token that came in a cookie is only ever answered with a
cookie. Requests that carry the cookie must also carry that header (a cross-site form can't
set it, and a cross-origin script would need a CORS preflight we don't grant): CSRF defence
on top of SameSite=Strict.

Beside the refresh cookie travels a hint, `signed_in=1`: not HttpOnly and not a secret, so
the page can tell there may be a session without a request that fails with 401 on every
anonymous load. It is set and cleared with the refresh cookie, with the same lifetime and
SameSite/Secure rules, but on Path=/ (a cookie on /v1/users is invisible to the page's
`document.cookie`). It only decides whether the page probes `POST /v1/users/refresh`; a stale
hint (the cookie expired, the session was ended elsewhere) costs one 401, whose answer clears it;
`DELETE /v1/users/me` clears both, as logout does.
"""

from dataclasses import dataclass
from typing import Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.api.v1.users.schemas import TokenResponse
from app.core import errors
from app.core.config import Settings
from app.db.models import User
from app.services.auth import AccessTokenStrategy
from app.services.sessions import Client, Grant, SessionService

REFRESH_COOKIE = "refresh_token"
REFRESH_COOKIE_PATH = "/v1/users"  # refresh and logout live here; nothing else reads it
SIGNED_IN_COOKIE = "signed_in"
SIGNED_IN_COOKIE_PATH = "/"
DELIVERY_HEADER = "X-Refresh-Token-Delivery"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

Delivery = Literal["body", "cookie"]


@dataclass(frozen=True)
class PresentedToken:
    value: str | None
    delivery: Delivery


def requested_delivery(request: Request) -> Delivery:
    return "cookie" if request.headers.get(DELIVERY_HEADER, "").lower() == "cookie" else "body"


def cookie_delivery(request: Request) -> Delivery:
    """How the answer travels, for a request that may set or clear the refresh cookie.

    Only a request with the header, from this origin, may touch the cookie: anything else
    (a cross-site form, say) is answered without a Set-Cookie, so it can't sign a
    browser out by expiring its cookie either.
    """
    delivery = requested_delivery(request)
    if delivery == "cookie" and not _same_origin(request):
        raise errors.CsrfCheckFailed()
    return delivery


def presented_refresh_token(request: Request, body_token: str | None) -> PresentedToken:
    """The refresh token from the body or the cookie, and how the answer must travel."""
    delivery = cookie_delivery(request)
    if body_token:
        return PresentedToken(body_token, delivery)
    cookie_token = request.cookies.get(REFRESH_COOKIE)
    if cookie_token is None:
        return PresentedToken(None, delivery)
    if delivery != "cookie":
        raise errors.CsrfCheckFailed()
    return PresentedToken(cookie_token, "cookie")


def token_response(
    grant: Grant, strategy: AccessTokenStrategy, delivery: Delivery, settings: Settings
) -> JSONResponse:
    body = TokenResponse(
        access_token=strategy.issue(grant.user, grant.session_id),
        expires_in=strategy.config.lifetime_seconds,
        refresh_token=grant.refresh_token if delivery == "body" else None,
    )
    response = JSONResponse(body.model_dump(exclude_none=True), headers=NO_STORE)
    if delivery == "cookie":
        response.set_cookie(
            REFRESH_COOKIE,
            grant.refresh_token,
            max_age=settings.refresh_token_lifetime_seconds,
            path=REFRESH_COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
        )
        response.set_cookie(
            SIGNED_IN_COOKIE,
            "1",
            max_age=settings.refresh_token_lifetime_seconds,
            path=SIGNED_IN_COOKIE_PATH,
            httponly=False,  # the page reads it: that is its whole purpose
            samesite="strict",
            secure=settings.secure_cookies,
        )
    return response


async def sign_in(
    user: User,
    client: Client,
    *,
    method: str,
    delivery: Delivery,
    sessions: SessionService,
    strategy: AccessTokenStrategy,
) -> tuple[Grant, JSONResponse]:
    """Start a session for `user` and answer as login does; every way of signing in
    (password, a plugin's) goes through here."""
    grant = await sessions.start(user, client, method=method)
    return grant, token_response(grant, strategy, delivery, sessions.settings)


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    """Expire the refresh cookie and its signed-in hint together."""
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(
        SIGNED_IN_COOKIE,
        path=SIGNED_IN_COOKIE_PATH,
        httponly=False,
        samesite="strict",
        secure=settings.secure_cookies,
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # same-origin GETs and some browsers' POSTs omit it
        return True
    return origin == f"{request.url.scheme}://{request.url.netloc}"
