"""NFKC-normalise stored emails

Emails are now stored and looked up in NFKC form, so `ａｎｎ@example.com` (full-width
letters) is the account `ann@example.com` rather than a look-alike beside it. An email
stored before then in a compatibility form could no longer be found: this rewrites it.

If the rewritten address would be another account's, nothing is changed and the
migration stops, naming both accounts: which one keeps the address is a decision for an
operator (rename or delete the look-alike, then migrate again), not for a migration.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("email", sa.String()))


def _normal(email: str) -> str:
    # What app/services/emails.py stores (kept here: a migration must not change later).
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).lower())


def upgrade() -> None:
    bind = op.get_bind()
    # Streamed, and only what changes is kept: ASCII is its own NFKC form, so only the
    # rare non-ASCII address can change.
    rows = bind.execute(sa.select(users.c.id, users.c.email).execution_options(yield_per=1000))
    changes = {
        user_id: (email, _normal(email))
        for user_id, email in rows
        if not email.isascii() and _normal(email) != email
    }
    if bind.dialect.name == "postgresql":
        # asyncpg leaves the streaming cursor's portal open until the transaction ends, and
        # an open cursor on `users` stops a later migration in the same run from altering
        # the table ("being used by active queries in this session").
        bind.exec_driver_sql("CLOSE ALL")
    if not changes:
        return
    owners: dict[str, list[tuple[str, str]]] = {}
    for user_id, (stored, normal) in changes.items():
        owners.setdefault(normal, []).append((str(user_id), stored))
    others = bind.execute(
        sa.select(users.c.id, users.c.email).where(
            sa.func.lower(users.c.email).in_({normal for _, normal in changes.values()}),
            users.c.id.not_in(list(changes)),
        )
    )
    for user_id, email in others:
        owners.setdefault(email.lower(), []).append((str(user_id), email))
    collisions = [group for group in owners.values() if len(group) > 1]
    if collisions:
        listed = "; ".join(
            " and ".join(f"{user_id} ({email!r})" for user_id, email in group)
            for group in collisions
        )
        raise RuntimeError(
            "These accounts have emails that are the same address once NFKC-normalised: "
            f"{listed}. Decide which account keeps the address, change or delete the "
            "other, and run the migration again. Nothing was changed."
        )
    # (Should the database's lower() see a collision this missed, the unique index stops
    # the update and the whole migration rolls back.)
    for user_id, (_, normal) in changes.items():
        bind.execute(sa.update(users).where(users.c.id == user_id).values(email=normal))


def downgrade() -> None:
    # The normalised addresses are valid for the older code too; the typed forms are gone.
    pass
