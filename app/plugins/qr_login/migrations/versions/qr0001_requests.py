"""qr_login: sign-in requests

Revision ID: qr0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "qr0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("qr_login",)
depends_on: str | Sequence[str] | None = "0005"  # users (approver_id), sessions.method


def upgrade() -> None:
    op.create_table(
        "qr_login_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_code_digest", sa.String(length=64), nullable=False),
        sa.Column("user_code", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("client_name", sa.String(length=100), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approver_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["users.id"],
            name=op.f("fk_qr_login_requests_approver_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qr_login_requests")),
        sa.UniqueConstraint(
            "device_code_digest", name=op.f("uq_qr_login_requests_device_code_digest")
        ),
        sa.UniqueConstraint("user_code", name=op.f("uq_qr_login_requests_user_code")),
    )
    op.create_index(op.f("ix_qr_login_requests_expires_at"), "qr_login_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_qr_login_requests_expires_at"), table_name="qr_login_requests")
    op.drop_table("qr_login_requests")
