"""events fanned out in the producer's transaction

Events now get their deliveries in the transaction that writes them, so no process scans
``outbox_events`` for pending rows any more: the index that served that scan only slowed
every insert. A delivery's turn is decided by the earlier deliveries of its order key and
target (``ix_webhook_deliveries_order``), which stays. Every transaction that writes events
reads the webhooks of its projects once: they get an index by project.

Events an older release wrote and had not fanned out yet (state PENDING) are not delivered
after the upgrade: let the old processes' senders drain before upgrading.

Revision ID: 0003_events
Revises: 0002_streaming
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_events"
down_revision: str | None = "0002_streaming"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index("ix_webhooks_project", ["project_id", "app_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index("ix_webhooks_project")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["state", "id"], unique=False)
