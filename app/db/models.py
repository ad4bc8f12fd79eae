"""Database models. Import every model here so Alembic's autogenerate sees them."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTable
from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from app.db.base import Base

# JSONB on PostgreSQL, JSON text on SQLite: a list of names either way.
ROLE_LIST = JSON().with_variant(JSONB(), "postgresql")
ROLE_NAME_LENGTH = 64


class User(SQLAlchemyBaseUserTable[uuid.UUID], Base):
    """fastapi-users' user columns, with a portable UUID key and case-insensitive emails."""

    __tablename__ = "users"  # `user` is a reserved word in PostgreSQL
    __mapper_args__ = {"eager_defaults": True}  # created_at comes back in the INSERT

    if TYPE_CHECKING:  # plain types, as fastapi-users' UserProtocol declares them
        id: uuid.UUID
        email: str
    else:
        # sqlalchemy.Uuid instead of fastapi-users' GUID: native on PostgreSQL, portable to
        # SQLite, and autogenerate renders it without a third-party import.
        id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
        # Stored trimmed and lowercased; uniqueness is the functional index below.
        email: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # Set whenever a session starts. A column, not max(sessions.created_at): the purge
    # deletes ended sessions, and the admin list would forget who signed in last month.
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The user's role names, sorted: a copy of user_roles kept in step by app/db/crud/role.py
    # in the same transaction, so the one query that loads the user on every request (and
    # every token it is issued) has them without a join or a second round trip.
    roles: Mapped[list[str]] = mapped_column(
        ROLE_LIST, nullable=False, server_default=text("'[]'"), default=list
    )


# fastapi-users types `User.id` and `User.email` as plain values; queries use these.
user_id_column: ColumnElement[uuid.UUID] = User.__table__.c.id
user_email_column: ColumnElement[str] = User.__table__.c.email

# Lookups compare lower(email) so this one index serves both uniqueness and login.
Index("uq_users_email_lower", func.lower(user_email_column), unique=True)


class AuthSession(Base):
    """One signed-in device: access tokens name it (`sid`), refresh tokens belong to it."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Slides forward on every refresh: a session ends after this long unused.
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # How it began: "password" (login), "qr" (a plugin's method), ...: shown in the devices list.
    method: Mapped[str] = mapped_column(String(32), nullable=False, server_default="password")
    # A name the user gave the device ("Work laptop"); None shows the user agent.
    name: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256 digest. Rotated tokens are kept until
    they expire, so presenting one again is recognised as reuse (theft)."""

    __tablename__ = "refresh_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True, nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, nullable=False
    )
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One security event (app/core/events.py). `user_id` is no foreign key: the record
    outlives the account, and writing it never waits on a lock of the user's row."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_audit_events_type_occurred_at", "type", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Indexed on its own for the retention purge and the superuser's unfiltered listing.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, nullable=False
    )
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False
    )


class ServiceKey(Base):
    """A key another backend presents to ask about tokens (`POST /v1/tokens/introspect`),
    stored only as its SHA-256 digest. Revoked keys stay as a record of who had access;
    only live ones need unique names."""

    __tablename__ = "service_keys"
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # None when the CLI made it; kept (set to null) when that admin's account is deleted.
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Written at most once a minute per key (app/services/service_keys.py).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Names are unique among live keys, whatever their case: a replacement key can be made
# under a new name, the old one revoked after the switch, and its name used again later.
Index(
    "uq_service_keys_live_name_lower",
    func.lower(ServiceKey.name),
    unique=True,
    postgresql_where=ServiceKey.revoked_at.is_(None),
    sqlite_where=ServiceKey.revoked_at.is_(None),
)


class Role(Base):
    """A named role a superuser creates and gives to users; access tokens carry the names."""

    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(ROLE_NAME_LENGTH), primary_key=True)
    description: Mapped[str] = mapped_column(String(256), nullable=False, server_default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    __mapper_args__ = {"eager_defaults": True}  # created_at comes back in the INSERT


class UserRole(Base):
    """Who has which role: the record of truth that users.roles copies. Deleting a user
    or a role deletes its rows."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Indexed for deleting a role: finding its holders must not scan every assignment.
    role_name: Mapped[str] = mapped_column(
        ForeignKey("roles.name", ondelete="CASCADE"), primary_key=True, index=True
    )


class SigningKey(Base):
    """An access-token signing key (app/services/signing_keys.py). Its private part is
    sealed with a key derived from SECRET_KEY; the public part is published in the JWKS
    from creation until the last token it signed has expired."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        # At most one current (not retired) key, whichever instances race to make one.
        Index(
            "uq_signing_keys_current",
            text("(retired_at IS NULL)"),
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
            sqlite_where=text("retired_at IS NULL"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)  # PEM
    private_key: Mapped[str] = mapped_column(Text, nullable=False)  # sealed (Fernet)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Signs from then on: a scheduled rotation publishes the new key before it signs, so
    # every instance and resource server knows it by the time tokens carry its kid.
    activates_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # When a newer key took over; the key is deleted once its last token has expired.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
