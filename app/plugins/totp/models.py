"""Two-step sign-in's tables: the authenticator secret, recovery codes, pending logins."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.plugins.api import Base


class TotpCredential(Base):
    """A user's authenticator secret: pending until a first code confirms it."""

    __tablename__ = "totp_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # AES-GCM: nonce + ciphertext + tag, bound to user_id (see sealing.py).
    sealed_secret: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The last time step whose code was accepted: it and earlier ones are refused (replay).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class TotpRecoveryCode(Base):
    __tablename__ = "totp_recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "digest"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    digest: Mapped[str] = mapped_column(String(64), nullable=False)  # HMAC-SHA256, hex


class TotpChallenge(Base):
    """A login whose password was right, waiting for its second step (the mfa_token)."""

    __tablename__ = "totp_challenges"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)  # SHA-256
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, nullable=False
    )
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
