"""hello: sign-ins

Revision ID: hello0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hello0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("hello",)  # the plugin's name
depends_on: str | Sequence[str] | None = "0001"  # the core revision that made `users`


def upgrade() -> None:
    op.create_table(
        "hello_sign_ins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_hello_sign_ins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hello_sign_ins")),
    )
    op.create_index(op.f("ix_hello_sign_ins_user_id"), "hello_sign_ins", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hello_sign_ins_user_id"), table_name="hello_sign_ins")
    op.drop_table("hello_sign_ins")
