"""The pruning job: finished batches with their messages past their app's
``retention_policy.ttl_days`` (never kept longer than the operator's maximum), and the logs
(delivered webhook events, their deliveries and attempts, the sandbox inbox, relay mappings,
cancel requests, the consent audit) past the operator's maxima.

Rows go in chunks of ``CHUNK`` ids, each chunk in its own short transaction, so dispatch never
waits long behind it. On PostgreSQL one process prunes at a time (an advisory lock per chunk).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import msgspec
from sqlalchemy import Table, delete, exists, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from convbatch.db.engine import Database
from convbatch.db.tables import (
    apps,
    batch_items,
    batch_metadata,
    batches,
    cancel_requests,
    consent_audit,
    messages,
    outbox_events,
    relay_messages,
    sandbox_inbox,
    webhook_attempts,
    webhook_deliveries,
)
from convbatch.services import Services

CHUNK = 500
MAX_CHUNKS_PER_RUN = 20  # then the next run goes on; other tasks get their turn meanwhile
DAY_MS = 86_400_000
_LOCK = 0x0C0B_9A1E  # advisory lock: one pruning process at a time on PostgreSQL


def _days(name: str, default: int) -> int:
    return int(os.environ.get(f"CONVBATCH_{name}", default))


RETAIN_BATCHES_MAX_DAYS = _days("RETAIN_BATCHES_MAX_DAYS", 365)
RETAIN_EVENTS_DAYS = _days("RETAIN_EVENTS_DAYS", 30)
RETAIN_SANDBOX_DAYS = _days("RETAIN_SANDBOX_DAYS", 30)
RETAIN_RELAY_DAYS = _days("RETAIN_RELAY_DAYS", 30)
RETAIN_CANCEL_REQUESTS_DAYS = _days("RETAIN_CANCEL_REQUESTS_DAYS", 30)
RETAIN_CONSENT_AUDIT_DAYS = _days("RETAIN_CONSENT_AUDIT_DAYS", 365)

_Retention = msgspec.json.Decoder(dict)


async def _locked(db: Database, conn: AsyncConnection) -> bool:
    if db.is_sqlite:
        return True
    return bool((await conn.execute(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})"))).scalar())


async def _delete_chunk(
    db: Database, key: ColumnElement, where: ColumnElement, then: Sequence[tuple[Table, str]] = ()
) -> int:
    """Delete up to CHUNK rows of ``key``'s table matching ``where`` (and rows of ``then``
    tables whose column references them); the number deleted."""
    async with db.transaction() as conn:
        if not await _locked(db, conn):
            return 0
        ids = [r[0] for r in await conn.execute(select(key).where(where).limit(CHUNK))]
        if ids:
            for table, column in then:
                await conn.execute(delete(table).where(table.c[column].in_(ids)))
            await conn.execute(delete(key.table).where(key.in_(ids)))
        return len(ids)


async def _drain(db: Database, key: ColumnElement, where: ColumnElement,
                 then: Sequence[tuple[Table, str]] = ()) -> int:  # fmt: skip
    total = 0
    for _ in range(MAX_CHUNKS_PER_RUN):
        count = await _delete_chunk(db, key, where, then)
        total += count
        if count < CHUNK:
            break
    return total


async def _app_ttls(db: Database) -> dict[str, int]:
    """Each app's retention in days (``retention_policy.ttl_days``; 0 or none: the maximum)."""
    async with db.read() as conn:
        rows = await conn.execute(select(apps.c.id, apps.c.doc))
        ttls = {}
        for row in rows:
            policy = _Retention.decode(row.doc).get("retention_policy") or {}
            days = int(policy.get("ttl_days") or 0)
            ttls[row.id] = (
                min(days, RETAIN_BATCHES_MAX_DAYS) if days > 0 else RETAIN_BATCHES_MAX_DAYS
            )
    return ttls


async def prune_batches(db: Database, now_ms: int) -> int:
    finished = batches.c.status.in_(("PROCESSED", "CANCELLED"))
    then = [(messages, "batch_id"), (batch_metadata, "batch_id"), (batch_items, "batch_id")]
    total = 0
    by_days: dict[int, list[str]] = {}
    for app_id, days in (await _app_ttls(db)).items():
        by_days.setdefault(days, []).append(app_id)
    for days, app_ids in by_days.items():
        old = batches.c.updated_at < now_ms - days * DAY_MS
        total += await _drain(
            db, batches.c.id, finished & old & batches.c.app_id.in_(app_ids), then
        )
    # Batches of deleted apps, and contacts and consents jobs without an app: the maximum.
    oldest = batches.c.updated_at < now_ms - RETAIN_BATCHES_MAX_DAYS * DAY_MS
    total += await _drain(db, batches.c.id, finished & oldest, then)
    return total


async def prune_logs(db: Database, now_ms: int) -> int:
    def before(days: int) -> int:
        return now_ms - days * DAY_MS

    d, e = webhook_deliveries, outbox_events
    done = d.c.state.in_(("DELIVERED", "FAILED", "DEAD")) & (
        d.c.finished_at < before(RETAIN_EVENTS_DAYS)
    )
    total = await _drain(db, d.c.id, done, [(webhook_attempts, "delivery_id")])
    unreferenced = ~exists().where(d.c.event_id == e.c.id)
    old_events = (e.c.state != "PENDING") & (e.c.created_at < before(RETAIN_EVENTS_DAYS))
    total += await _drain(db, e.c.id, old_events & unreferenced)
    total += await _drain(db, sandbox_inbox.c.message_id, (
        sandbox_inbox.c.received_at < before(RETAIN_SANDBOX_DAYS))
        & sandbox_inbox.c.next_receipt_at.is_(None))  # fmt: skip
    for key, created, days in (
        (relay_messages.c.upstream_id, relay_messages.c.created_at, RETAIN_RELAY_DAYS),
        (cancel_requests.c.id, cancel_requests.c.created_at, RETAIN_CANCEL_REQUESTS_DAYS),
        (consent_audit.c.id, consent_audit.c.created_at, RETAIN_CONSENT_AUDIT_DAYS),
    ):
        total += await _drain(db, key, created < before(days))
    return total


async def prune_once(db: Database, now_ms: int) -> int:
    """One pruning pass; the number of rows of the main tables deleted."""
    return await prune_batches(db, now_ms) + await prune_logs(db, now_ms)


RETENTION_PERIOD_MS = _days("RETENTION_PERIOD_S", 60) * 1000  # how often a process prunes


async def prune_step(services: Services) -> bool:
    """The engine's side task: one pass; True when there may be more to delete at once."""
    return await prune_once(services.db, services.now_ms()) >= CHUNK
