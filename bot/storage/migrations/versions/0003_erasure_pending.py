"""erasure state as data: outbound_messages.erasure_pending instead of a key prefix

The last message to a person erased at their request was marked only by its idempotency
key (`erasure:<pseudonym>:<id>`). It is now a column; the rows already marked that way are
converted. Their keys stay as they are (a downgrade loses nothing).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OUTBOX = sa.table(
    "outbound_messages",
    sa.column("idempotency_key", sa.String),
    sa.column("erasure_pending", sa.Boolean),
)


def upgrade() -> None:
    op.add_column(
        "outbound_messages",
        sa.Column("erasure_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        OUTBOX.update()
        .where(OUTBOX.c.idempotency_key.like("erasure:%"))
        .values(erasure_pending=True)
    )


def downgrade() -> None:
    # Plain SQL on both databases (SQLite 3.35+): a batch copy of the table would fire the
    # ON DELETE actions of the tables that reference it.
    op.execute("ALTER TABLE outbound_messages DROP COLUMN erasure_pending")
