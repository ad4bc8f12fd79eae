"""users.last_login_at: when the account last signed in, for the admin list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    # The sessions not yet purged are the best record there is of earlier sign-ins.
    op.execute(
        "UPDATE users SET last_login_at = "
        "(SELECT max(sessions.created_at) FROM sessions WHERE sessions.user_id = users.id)"
    )


def downgrade() -> None:
    op.drop_column("users", "last_login_at")
