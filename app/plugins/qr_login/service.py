"""QR sign-in's rules: start a request, let a signed-in user decide it, hand out tokens once."""

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import segno
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import Client, utcnow
from app.plugins.qr_login import errors, queries
from app.plugins.qr_login.codes import (
    device_code_digest,
    display_user_code,
    new_device_code,
    new_user_code,
    normalize_user_code,
)
from app.plugins.qr_login.models import QrLoginRequest, Status
from app.plugins.qr_login.settings import QrLoginSettings

APPROVE_PATH = "/qr"
# Markup that works inline in HTML and as an image alike; sized by the page's CSS.
QR_SVG: dict[str, Any] = {
    "kind": "svg",
    "xmldecl": False,
    "svgns": True,
    "nl": False,
    "scale": 4,
    "light": "#fff",
    "omitsize": True,
    "svgclass": "qr-login-code",
}
# A poll a little early still counts as on time: timers and networks jitter.
POLL_SLACK = timedelta(milliseconds=500)
NEW_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Started:
    device_code: str
    user_code: str  # XXXX-XXXX
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int
    qr_svg: str


@dataclass(frozen=True)
class Approved:
    """A request whose tokens may now be handed out, once."""

    approver_id: uuid.UUID
    client: Client  # the requesting device, as the new session will show it


def qr_svg(url: str) -> str:
    """SVG markup of a QR code of `url` (segno; a full-size code, never a Micro QR, on a
    white background so it scans in dark mode too)."""
    out = io.BytesIO()
    segno.make_qr(url, error="m").save(out, **QR_SVG)
    return out.getvalue().decode()


def as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive ones


class QrLoginService:
    def __init__(self, session: AsyncSession, settings: QrLoginSettings) -> None:
        self.session = session
        self.settings = settings

    async def start(self, *, client: Client, client_name: str | None, base_url: str) -> Started:
        now = utcnow()
        device_code = new_device_code()
        for attempt in range(NEW_CODE_ATTEMPTS):
            request = QrLoginRequest(
                device_code_digest=device_code_digest(device_code),
                user_code=new_user_code(),
                status=Status.PENDING,
                client_name=client_name,
                user_agent=client.user_agent[:512] if client.user_agent else None,
                ip_address=client.ip_address,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.ttl_seconds),
            )
            try:
                async with self.session.begin_nested():  # a taken user code: draw again
                    await queries.add_request(self.session, request)
                break
            except IntegrityError:
                if attempt == NEW_CODE_ATTEMPTS - 1:
                    raise
        user_code = display_user_code(request.user_code)
        verification_uri = base_url.rstrip("/") + APPROVE_PATH
        complete = f"{verification_uri}?code={user_code}"
        return Started(
            device_code=device_code,
            user_code=user_code,
            verification_uri=verification_uri,
            verification_uri_complete=complete,
            expires_in=self.settings.ttl_seconds,
            interval=self.settings.interval_seconds,
            qr_svg=qr_svg(complete),
        )

    async def pending(self, typed_code: str) -> QrLoginRequest:
        """The live, undecided request with this code; raises RequestNotFound."""
        code = normalize_user_code(typed_code)
        found = None
        if code is not None:
            found = await queries.find_pending(self.session, user_code=code, now=utcnow())
        if found is None:
            raise errors.RequestNotFound()
        return found

    async def decide(self, typed_code: str, *, approver_id: uuid.UUID, approve: bool) -> None:
        """Approve or deny, once; raises RequestNotFound."""
        code = normalize_user_code(typed_code)
        if code is None or not await queries.decide(
            self.session,
            user_code=code,
            status=Status.APPROVED if approve else Status.DENIED,
            approver_id=approver_id,
            now=utcnow(),
        ):
            raise errors.RequestNotFound()

    async def poll(self, device_code: str) -> Approved:
        """The approved request, marked used; otherwise raises the RFC 8628 error to answer."""
        now = utcnow()
        request = await queries.lock_by_digest(self.session, digest=device_code_digest(device_code))
        if request is None or request.status == Status.USED:
            raise errors.InvalidGrant()
        if request.status == Status.DENIED:
            raise errors.AccessDenied()
        if as_utc(request.expires_at) <= now:
            raise errors.ExpiredToken()
        if request.status == Status.APPROVED and request.approver_id is not None:
            request.status = Status.USED
            await self.session.flush()
            return Approved(
                request.approver_id,
                Client(user_agent=request.user_agent, ip_address=request.ip_address),
            )
        interval = timedelta(seconds=self.settings.interval_seconds) - POLL_SLACK
        last = request.last_polled_at
        too_soon = last is not None and now - as_utc(last) < interval
        request.last_polled_at = now
        # The answer is an error, which rolls the request back: keep the poll's time.
        await self.session.commit()
        raise errors.SlowDown() if too_soon else errors.AuthorizationPending()

    async def purge(self) -> int:
        before = utcnow() - timedelta(seconds=self.settings.purge_after_seconds)
        return await queries.purge_expired(self.session, before=before)
