"""Two-step sign-in's rules: enrol, activate, turn off, recovery codes, and the second
step of a login (its mfa_token: one-time, short-lived, a few attempts)."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.api import utcnow
from app.plugins.totp import errors, queries
from app.plugins.totp.codes import (
    display_recovery_code,
    matching_step,
    mfa_token_digest,
    new_mfa_token,
    new_recovery_codes,
    new_secret,
    normalize_recovery_code,
    otpauth_uri,
)
from app.plugins.totp.models import TotpChallenge, TotpCredential
from app.plugins.totp.sealing import Sealer, UnsealError
from app.plugins.totp.settings import TotpSettings

logger = logging.getLogger(__name__)
METHODS = ("totp", "recovery_code")


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True)
class Status:
    totp: bool
    recovery_codes_left: int
    enabled_at: datetime | None = None


@dataclass(frozen=True)
class Held:
    """A login waiting for its second step."""

    mfa_token: str
    expires_in: int


@dataclass(frozen=True)
class Passed:
    user_id: uuid.UUID
    method: str  # "totp" or "recovery_code"


@dataclass(frozen=True)
class Failed:
    """A wrong code; the token is spent once `attempts_left` is 0."""

    user_id: uuid.UUID
    method: str
    attempts_left: int


def qr_svg(uri: str) -> str:
    """SVG markup of a QR code of `uri`, dark on white so it scans in dark mode too."""
    code = segno.make_qr(uri, error="m")
    return code.svg_inline(scale=4, light="#fff", omitsize=True, svgclass="totp-qr")


async def hold_login(
    session: AsyncSession, settings: TotpSettings, *, user_id: uuid.UUID
) -> Held | None:
    """A pending login for a user with two-step on; None lets the login through."""
    credential = await queries.get_credential(session, user_id=user_id)
    if credential is None or credential.confirmed_at is None:
        return None
    token = new_mfa_token()
    ttl = settings.mfa_token_ttl_seconds
    await queries.add_challenge(
        session,
        TotpChallenge(
            token_digest=mfa_token_digest(token),
            user_id=user_id,
            expires_at=utcnow() + timedelta(seconds=ttl),
            failed_attempts=0,
        ),
    )
    return Held(mfa_token=token, expires_in=ttl)


class TotpService:
    def __init__(self, session: AsyncSession, settings: TotpSettings, sealer: Sealer) -> None:
        self.session = session
        self.settings = settings
        self.sealer = sealer

    async def status(self, user_id: uuid.UUID) -> Status:
        credential = await queries.get_credential(self.session, user_id=user_id)
        if credential is None or credential.confirmed_at is None:
            return Status(totp=False, recovery_codes_left=0)
        left = await queries.count_recovery_codes(self.session, user_id=user_id)
        return Status(totp=True, recovery_codes_left=left, enabled_at=credential.confirmed_at)

    async def enrol(self, user_id: uuid.UUID, *, email: str) -> Enrolment:
        """A new pending secret (replacing a pending one); raises AlreadyEnabled."""
        secret = new_secret()
        sealed = self.sealer.seal(secret, user_id=user_id)
        if not await queries.put_pending(
            self.session, user_id=user_id, sealed_secret=sealed, now=utcnow()
        ):
            raise errors.AlreadyEnabled()
        uri = otpauth_uri(secret, account=email, issuer=self.settings.issuer)
        return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))

    async def activate(self, user_id: uuid.UUID, code: str) -> list[str]:
        """Confirm the pending secret with a code from the app; the recovery codes to show
        once. Raises NotEnrolled, AlreadyEnabled or WrongActivationCode."""
        credential = await queries.get_credential(self.session, user_id=user_id, lock=True)
        if credential is None:
            raise errors.NotEnrolled()
        if credential.confirmed_at is not None:
            raise errors.AlreadyEnabled()
        step = matching_step(self._secret_of(credential), code, now=utcnow())
        if step is None:
            raise errors.WrongActivationCode()
        await queries.confirm(self.session, user_id=user_id, step=step, now=utcnow())
        return await self.new_recovery_codes(user_id, must_be_on=False)

    async def new_recovery_codes(self, user_id: uuid.UUID, *, must_be_on: bool = True) -> list[str]:
        """A fresh set of recovery codes; the old ones stop working. Raises NotEnabled."""
        # Locked: two new sets asked at once take turns, so the later one's DELETE sees
        # the earlier one's codes, instead of both sets staying valid.
        credential = await queries.get_credential(self.session, user_id=user_id, lock=True)
        if must_be_on and (credential is None or credential.confirmed_at is None):
            raise errors.NotEnabled()
        codes = new_recovery_codes()
        digests = [self.sealer.recovery_digest(code) for code in codes]
        await queries.replace_recovery_codes(self.session, user_id=user_id, digests=digests)
        return [display_recovery_code(code) for code in codes]

    async def disable(self, user_id: uuid.UUID) -> None:
        """Forget the secret, recovery codes and pending logins; raises NotEnabled."""
        if not await queries.remove_all(self.session, user_id=user_id):
            raise errors.NotEnabled()

    async def challenge(self, mfa_token: str) -> TotpChallenge:
        """The live pending login of this token, locked; raises MfaTokenInvalid."""
        found = await queries.lock_challenge(
            self.session, token_digest=mfa_token_digest(mfa_token), now=utcnow()
        )
        if found is None:
            raise errors.MfaTokenInvalid()
        return found

    async def second_step(
        self, challenge: TotpChallenge, *, code: str | None, recovery_code: str | None
    ) -> Passed | Failed:
        """Check the code (or recovery code) for the challenge's login. Passed: the token
        is spent. Failed: one attempt counted and committed (the token dies after the
        last)."""
        user_id = challenge.user_id
        method = "totp" if code is not None else "recovery_code"
        if code is not None:
            passed = await self._check_code(user_id, code)
        else:
            passed = await self._spend_recovery_code(user_id, recovery_code or "")
        if passed:
            await queries.delete_challenge(self.session, challenge)
            return Passed(user_id=user_id, method=method)
        challenge.failed_attempts += 1
        left = max(self.settings.max_attempts - challenge.failed_attempts, 0)
        if left == 0:
            await queries.delete_challenge(self.session, challenge)
        # The answer is an error, which rolls the request back: keep the count.
        await self.session.commit()
        return Failed(user_id=user_id, method=method, attempts_left=left)

    async def _check_code(self, user_id: uuid.UUID, code: str) -> bool:
        credential = await queries.get_credential(self.session, user_id=user_id)
        if credential is None or credential.confirmed_at is None:
            raise errors.MfaTokenInvalid()  # turned off (an admin reset) since the password
        step = matching_step(self._secret_of(credential), code, now=utcnow())
        return step is not None and await queries.use_step(self.session, user_id=user_id, step=step)

    async def _spend_recovery_code(self, user_id: uuid.UUID, typed: str) -> bool:
        code = normalize_recovery_code(typed)
        if code is None:
            return False
        digest = self.sealer.recovery_digest(code)
        return await queries.use_recovery_code(self.session, user_id=user_id, digest=digest)

    def _secret_of(self, credential: TotpCredential) -> str:
        try:
            return self.sealer.unseal(credential.sealed_secret, user_id=credential.user_id)
        except UnsealError:
            logger.error(
                "The TOTP secret of user %s doesn't decrypt: TOTP_ENCRYPTION_KEY (or "
                "SECRET_KEY, which derives it) changed since it was stored",
                credential.user_id,
            )
            raise errors.SecretUnreadable() from None
