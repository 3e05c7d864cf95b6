"""The one entry point for delivery receipts that arrive after a send (from the sandbox, an
upstream relay or an HTTP callback): update the message, its batch counters and the outbox."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch import metrics
from convbatch.callbacks.outbox import Outbox
from convbatch.clock import epoch_ms
from convbatch.db.bulk import update_rows
from convbatch.engine import queries
from convbatch.engine.context import BatchContext, ContextCache
from convbatch.engine.events import message_facts

RANK = {None: 0, "QUEUED_ON_CHANNEL": 1, "DELIVERED": 2, "READ": 3}
# The counter a SENT message sits in, by its furthest receipt.
BUCKET = {None: "sent", "QUEUED_ON_CHANNEL": "sent", "DELIVERED": "delivered", "READ": "read"}
NOT_YET_SENT = ("SCHEDULED", "QUEUED", "SENDING")


@dataclass(slots=True)
class Receipt:
    message_id: str
    status: str  # QUEUED_ON_CHANNEL, DELIVERED, READ, FAILED
    reason_code: str | None = None
    description: str | None = None


_SELECT_SQL = (
    "SELECT id, project_id, app_id, batch_id, idx, state, delivery_status, channel, identity, "
    "contact_id, metadata FROM messages WHERE id IN :ids"
)
_SELECT = {
    "sqlite": text(_SELECT_SQL).bindparams(bindparam("ids", expanding=True)),
    "postgresql": text(_SELECT_SQL + " FOR UPDATE").bindparams(bindparam("ids", expanding=True)),
}
_CHANGED_COLUMNS = (
    ("state", "text"), ("delivery_status", "text"), ("reason_code", "text"),
    ("reason_description", "text"), ("updated_at", "bigint"),
)  # fmt: skip


async def apply_receipts(
    conn: AsyncConnection, receipts: Sequence[Receipt], now: datetime, cache: ContextCache
) -> set[str]:
    """Apply receipts in order, in the caller's transaction. Returns the ids of messages not yet
    recorded as sent, whose receipts the caller should offer again shortly. Receipts that would
    move a message backwards (QUEUED_ON_CHANNEL after DELIVERED) are dropped."""
    if not receipts:
        return set()
    ids = sorted({x.message_id for x in receipts})  # sorted: a stable lock order
    rows = {r.id: r for r in await conn.execute(_SELECT[conn.dialect.name], {"ids": ids})}
    contexts = await cache.batches(conn, {r.batch_id for r in rows.values() if r.batch_id})
    now_ms = epoch_ms(now)
    deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    changed: dict[str, dict] = {}
    deferred: set[str] = set()
    outbox = Outbox(conn, now)
    for receipt in receipts:
        found = rows.get(receipt.message_id)
        if found is None:
            continue
        # The row as this call has changed it so far (several receipts may hit one message).
        row = changed.get(found.id) or found._asdict()
        if row["state"] in NOT_YET_SENT:
            deferred.add(receipt.message_id)
            continue
        if row["state"] != "SENT" or not _moves_forward(row["delivery_status"], receipt.status):
            continue
        if row["batch_id"] is not None:
            bucket = deltas[row["batch_id"]]
            bucket[BUCKET[row["delivery_status"]]] -= 1
            bucket["failed" if receipt.status == "FAILED" else BUCKET[receipt.status]] += 1
        if receipt.status == "FAILED":
            row.update(state="FAILED", reason_code=receipt.reason_code or "UNKNOWN",
                       reason_description=receipt.description or "")  # fmt: skip
        else:
            row["delivery_status"] = receipt.status
        changed[row["id"]] = row
        metrics.receipt(receipt.status, row["channel"])
        _report(outbox, row, receipt, contexts.get(row["batch_id"] or ""))
    await update_rows(conn, "messages", "id", _CHANGED_COLUMNS, [
        (r["id"], r["state"], r["delivery_status"], r.get("reason_code"),
         r.get("reason_description"), now_ms) for r in changed.values()
    ])  # fmt: skip
    await queries.add_to_counters(conn, deltas, now_ms)
    await outbox.flush()
    return deferred


def _moves_forward(current: str | None, status: str) -> bool:
    if status == "FAILED":
        return True
    return status in RANK and RANK[status] > RANK.get(current, 0)


def _report(outbox: Outbox, row: dict, receipt: Receipt, ctx: BatchContext | None) -> None:
    facts = message_facts(
        ctx, project_id=row["project_id"], app_id=row["app_id"], message_id=row["id"],
        batch_id=row["batch_id"], index=row["idx"], channel=row["channel"],
        identity=row["identity"], contact_id=row["contact_id"], metadata=row["metadata"],
    )  # fmt: skip
    code = receipt.reason_code if receipt.status == "FAILED" else None
    outbox.delivery_report(facts, receipt.status, code, receipt.description)
