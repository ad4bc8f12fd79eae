"""QR sign-in requests' queries: they take a session, flush, and never commit."""

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.plugins.qr_login.models import QrLoginRequest, Status


async def add_request(session: AsyncSession, request: QrLoginRequest) -> None:
    session.add(request)
    await session.flush()


async def find_pending(
    session: AsyncSession, *, user_code: str, now: datetime
) -> QrLoginRequest | None:
    found: QrLoginRequest | None = await session.scalar(
        select(QrLoginRequest).where(
            QrLoginRequest.user_code == user_code,
            QrLoginRequest.status == Status.PENDING,
            QrLoginRequest.expires_at > now,
        )
    )
    return found


async def decide(
    session: AsyncSession,
    *,
    user_code: str,
    status: Status,
    approver_id: object,
    now: datetime,
) -> bool:
    """Approve or deny a pending, live request: one conditional UPDATE, so of two
    decisions racing, one wins and the other finds nothing."""
    decided = await session.scalar(
        update(QrLoginRequest)
        .where(
            QrLoginRequest.user_code == user_code,
            QrLoginRequest.status == Status.PENDING,
            QrLoginRequest.expires_at > now,
        )
        .values(status=status, approver_id=approver_id, decided_at=now)
        .returning(QrLoginRequest.id)
    )
    return decided is not None


async def deny_uncollected(session: AsyncSession, *, approver_id: object, now: datetime) -> int:
    """Turn the approver's approved requests whose device hasn't collected its tokens yet
    into denied ones: the device is told `access_denied`."""
    result = await session.execute(
        update(QrLoginRequest)
        .where(
            QrLoginRequest.approver_id == approver_id,
            QrLoginRequest.status == Status.APPROVED,
        )
        .values(status=Status.DENIED, decided_at=now)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def lock_by_digest(session: AsyncSession, *, digest: str) -> QrLoginRequest | None:
    """The request, row-locked until the transaction ends and read as committed by whoever
    held the lock before: two polls racing after approval take turns."""
    found: QrLoginRequest | None = await session.scalar(
        select(QrLoginRequest)
        .where(QrLoginRequest.device_code_digest == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


async def purge_expired(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(QrLoginRequest).where(QrLoginRequest.expires_at < before))
    return result.rowcount or 0  # type: ignore[attr-defined]
