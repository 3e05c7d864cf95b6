"""Running contacts and consents batches: create contacts, delete contacts, insert consents.

A chunk of QUEUED items is claimed, applied, marked DONE or FAILED, counted and its events
written in ONE transaction, so the item's state is the exactly-once guard: a crash before the
commit leaves the items QUEUED with none of their effects, and a committed item is never taken
again. The claim is the row lock itself (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
workers take disjoint items; SQLite has one writer at a time), which the database drops when a
worker dies, so no lease is needed.

An item whose data the database refuses fails alone: the chunk is redone with a savepoint
around each item (see ``run_jobs_once``). Errors of the database itself (lost connection,
deadlock) roll the whole chunk back for a later try.

When a batch has no item left it becomes PROCESSED with the same status and processing-report
callbacks as message batches; the report lists the failed items' indexes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import msgspec
import structlog
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.apps.repository import get_app
from convbatch.callbacks.outbox import BatchFacts, Outbox, batch_counts
from convbatch.clock import Clock, epoch_ms
from convbatch.db.engine import Database
from convbatch.db.tables import batch_items
from convbatch.engine import queries
from convbatch.engine.job_items import (
    ItemContext,
    Outcome,
    consent_item,
    create_item,
    delete_item,
    failure,
    lock_order_key,
)

log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder().encode

DEFAULT_LIMIT = 100  # items per transaction: bounds how long SQLite's writer is held
JOB_TYPES = ("CONTACTS", "CONSENTS")
Applier = Callable[[AsyncConnection, Row, ItemContext], Awaitable[Outcome]]
APPLIERS: dict[tuple[str, str], Applier] = {
    ("CONTACTS", "CREATE"): create_item,
    ("CONTACTS", "DELETE"): delete_item,
    ("CONSENTS", "INSERT"): consent_item,
}


async def run_jobs_once(db: Database, clock: Clock, limit: int = DEFAULT_LIMIT) -> int:
    """Apply up to ``limit`` queued job items in one transaction; returns how many."""
    if not await _has_work(db):
        return 0  # checked on a reader first: an idle poll never takes SQLite's write lock
    try:
        return await _run_chunk(db, clock, limit, careful=False)
    except _ItemBroke:
        # An item broke mid-way and took the transaction with it. Redo the chunk with a
        # savepoint around each item, so that item fails alone; savepoints cost two more
        # statements per item, so only this path pays for them.
        return await _run_chunk(db, clock, limit, careful=True)


class _ItemBroke(Exception):
    """An item failed in a way that may have left partial writes (fast path only)."""


async def _run_chunk(db: Database, clock: Clock, limit: int, careful: bool) -> int:
    now = clock.now()
    now_ms = epoch_ms(now)
    async with db.transaction() as conn:
        rows = await claim_items(conn, limit)
        if not rows:
            return 0
        apps = _Apps(conn)
        outbox = Outbox(conn, now)
        ctx = ItemContext(now, now_ms, outbox)
        outcomes: list[tuple[Row, Outcome]] = []
        for row in sorted(rows, key=lock_order_key):
            outcomes.append((row, await _apply(conn, row, ctx, apps, careful)))
        await _mark_items(conn, outcomes)
        deltas = _counter_deltas(outcomes)
        await queries.add_to_counters(conn, deltas, now_ms)
        await finish_jobs(conn, sorted(deltas), outbox)
        await outbox.flush()
    return len(rows)


async def _has_work(db: Database) -> bool:
    # A READY job batch always has queued items: the last item's transaction makes it PROCESSED.
    sql = text(
        "SELECT 1 FROM batches WHERE status = 'READY' AND batch_type IN :types LIMIT 1"
    ).bindparams(bindparam("types", expanding=True))
    async with db.read() as conn:
        return (await conn.execute(sql, {"types": list(JOB_TYPES)})).first() is not None


async def claim_items(conn: AsyncConnection, limit: int) -> Sequence[Row]:
    """Queued items of READY contacts and consents batches, oldest batch first, locked."""
    lock = " FOR UPDATE OF i SKIP LOCKED" if conn.dialect.name == "postgresql" else ""
    sql = text(
        "SELECT i.batch_id, i.idx, i.payload, b.project_id, b.app_id, b.batch_type, "
        "b.operation FROM batch_items i JOIN batches b ON b.id = i.batch_id "
        "WHERE b.status = 'READY' AND b.batch_type IN :types AND i.state = 'QUEUED' "
        f"ORDER BY i.batch_id, i.idx LIMIT :limit{lock}"
    ).bindparams(bindparam("types", expanding=True))
    return (await conn.execute(sql, {"types": list(JOB_TYPES), "limit": limit})).all()


class _Apps:
    """Per chunk: whether a consents batch's app still exists, looked up once per app."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._exists: dict[tuple[str, str], bool] = {}

    async def exists(self, project_id: str, app_id: str) -> bool:
        key = (project_id, app_id)
        if key not in self._exists:
            self._exists[key] = await get_app(self.conn, project_id, app_id) is not None
        return self._exists[key]


async def _apply(
    conn: AsyncConnection, row: Row, ctx: ItemContext, apps: _Apps, careful: bool
) -> Outcome:
    applier = APPLIERS.get((row.batch_type, row.operation))
    if applier is None:
        return failure("INTERNAL_ERROR", f"no {row.batch_type} {row.operation} job exists")
    if row.batch_type == "CONSENTS" and not await apps.exists(row.project_id, row.app_id):
        return failure("UNKNOWN_APP", f"app {row.app_id} no longer exists")
    try:
        if not careful:
            return await applier(conn, row, ctx)
        async with conn.begin_nested():
            return await applier(conn, row, ctx)
    except DBAPIError as exc:
        if not refused_data(exc):
            raise  # the database itself: the chunk is retried as a whole, later
        if not careful:
            raise _ItemBroke from exc
        # The item's data was refused; the savepoint undid its writes.
        return failure("BAD_REQUEST", str(exc.orig))
    except Exception as exc:
        if not careful:
            raise _ItemBroke from exc
        log.exception("job item failed", batch_id=row.batch_id, idx=row.idx)
        return failure("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")


def refused_data(exc: DBAPIError) -> bool:
    """Whether the database refused the values (SQLSTATE classes 22 data exception and 23
    constraint violation) rather than failed itself. asyncpg's errors reach us as plain
    DBAPIError, so the SQLSTATE is read where the class says nothing."""
    if isinstance(exc, IntegrityError | DataError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return sqlstate[:2] in ("22", "23")


async def _mark_items(conn: AsyncConnection, outcomes: list[tuple[Row, Outcome]]) -> None:
    statement = (
        update(batch_items)
        .where(batch_items.c.batch_id == bindparam("b_id"), batch_items.c.idx == bindparam("b_idx"))
        .values(state=bindparam("b_state"), result=bindparam("b_result"))
    )
    params = [
        {"b_id": row.batch_id, "b_idx": row.idx, "b_state": "DONE" if o.applied else "FAILED",
         "b_result": _encode(o.result).decode()}
        for row, o in outcomes
    ]  # fmt: skip
    await conn.execute(statement, params)


def _counter_deltas(outcomes: list[tuple[Row, Outcome]]) -> dict[str, dict[str, int]]:
    """Applied items count as ``sent``, refused ones as ``failed``. Batches come out in id
    order, so concurrent chunks update the batch rows in the same order."""
    deltas: dict[str, dict[str, int]] = defaultdict(lambda: {"queued": 0, "sent": 0, "failed": 0})
    for row, outcome in outcomes:
        bucket = deltas[row.batch_id]
        bucket["queued"] -= 1
        bucket["sent" if outcome.applied else "failed"] += 1
    return {batch_id: deltas[batch_id] for batch_id in sorted(deltas)}


async def finish_jobs(conn: AsyncConnection, batch_ids: list[str], outbox: Outbox) -> None:
    """Batches with no item left become PROCESSED, with their status and report events."""
    for row in await queries.mark_processed(conn, batch_ids, epoch_ms(outbox.now)):
        batch = BatchFacts.of(row)
        outbox.batch_status(batch, "PROCESSED")
        outbox.processing_report(batch, batch_counts(row),
                                 partial(failed_items, batch_id=row.id))  # fmt: skip


class _Failure(msgspec.Struct):
    reason: dict[str, str] = {}


_decode_failure = msgspec.json.Decoder(_Failure).decode


async def failed_items(conn: AsyncConnection, batch_id: str) -> list[dict[str, Any]]:
    """The report's failure list for a job: item index and reason, like a message batch's."""
    query = (
        select(batch_items.c.idx, batch_items.c.result)
        .where(batch_items.c.batch_id == batch_id, batch_items.c.state == "FAILED")
        .order_by(batch_items.c.idx)
    )
    found = []
    for r in await conn.execute(query):
        reason = _decode_failure(r.result or "{}").reason
        found.append(
            {
                "message_index": r.idx,
                "reason": {
                    "code": reason.get("code", "UNKNOWN"),
                    "description": reason.get("description", ""),
                },
            }
        )
    return found  # fmt: skip
