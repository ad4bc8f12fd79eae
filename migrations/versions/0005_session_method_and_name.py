"""sessions: how each began, and a name the user may give it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing sessions all began with a password: the server default fills them in.
    op.add_column(
        "sessions",
        sa.Column("method", sa.String(length=32), server_default="password", nullable=False),
    )
    op.add_column("sessions", sa.Column("name", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("sessions", "name")
    op.drop_column("sessions", "method")
