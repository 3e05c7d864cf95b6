"""streaming lanes: per-app queue index, at-most-once attempt marker

Revision ID: 0002_streaming
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_streaming"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_QUEUED = sa.text("state = 'QUEUED'")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("send_started_at", sa.BigInteger(), nullable=True))
    # Claims go app by app (fairness), so the queue index leads with the app.
    op.drop_index("ix_messages_queue", table_name="messages")
    op.create_index("ix_messages_queue", "messages", ["app_id", "due_at"],
                    sqlite_where=_QUEUED, postgresql_where=_QUEUED)


def downgrade() -> None:
    op.drop_index("ix_messages_queue", table_name="messages")
    op.create_index("ix_messages_queue", "messages", ["due_at"],
                    sqlite_where=_QUEUED, postgresql_where=_QUEUED)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("send_started_at")
