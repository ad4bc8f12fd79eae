"""totp: authenticator secrets, recovery codes, pending second steps

Revision ID: totp0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "totp0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("totp",)
depends_on: str | Sequence[str] | None = "0005"  # users; sessions.method


def upgrade() -> None:
    op.create_table(
        "totp_credentials",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_totp_credentials")),
    )
    op.create_table(
        "totp_recovery_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_recovery_codes")),
        sa.UniqueConstraint("user_id", "digest", name=op.f("uq_totp_recovery_codes_user_id")),
    )
    op.create_table(
        "totp_challenges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_totp_challenges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_challenges")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_totp_challenges_token_digest")),
    )
    op.create_index(op.f("ix_totp_challenges_expires_at"), "totp_challenges", ["expires_at"])
    op.create_index(op.f("ix_totp_challenges_user_id"), "totp_challenges", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_totp_challenges_user_id"), table_name="totp_challenges")
    op.drop_index(op.f("ix_totp_challenges_expires_at"), table_name="totp_challenges")
    op.drop_table("totp_challenges")
    op.drop_table("totp_recovery_codes")
    op.drop_table("totp_credentials")
