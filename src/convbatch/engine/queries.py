"""The engine's hot-path SQL, each statement named with its purpose. Dialect differences (row
locking) are settled here so callers never branch on the database."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.bulk import asyncpg_in_transaction, update_rows
from convbatch.db.tables import batches, consents, contacts
from convbatch.engine.plan import ContactDoc
from convbatch.engine.rows import CLAIMED_COLUMNS, FINISH_COLUMNS, ClaimedMessage, FinishedMessage

_decode_contact = msgspec.json.Decoder(ContactDoc).decode


def _lock(conn: AsyncConnection) -> str:
    return " FOR UPDATE SKIP LOCKED" if conn.dialect.name == "postgresql" else ""


async def has_due_messages(conn: AsyncConnection, now_ms: int) -> bool:
    """A cheap read, so an idle worker does not take the write lock just to find nothing."""
    sql = text("SELECT 1 FROM messages WHERE state = 'QUEUED' AND due_at <= :now LIMIT 1")
    return (await conn.execute(sql, {"now": now_ms})).first() is not None


# Apps with queued messages, by skipping through the queue index one app at a time: as cheap
# with a million queued rows as with ten.
_QUEUED_APPS = text(
    "WITH RECURSIVE a(app_id) AS ("
    " SELECT MIN(app_id) FROM messages WHERE state = 'QUEUED'"
    " UNION ALL"
    " SELECT (SELECT MIN(m.app_id) FROM messages AS m WHERE m.state = 'QUEUED'"
    " AND m.app_id > a.app_id) FROM a WHERE a.app_id IS NOT NULL"
    ") SELECT app_id FROM a WHERE app_id IS NOT NULL"
)


async def queued_apps(conn: AsyncConnection) -> list[str]:
    """Every app that has QUEUED messages (due or not), in id order."""
    return [row.app_id for row in await conn.execute(_QUEUED_APPS)]


async def claim_due_messages(
    conn: AsyncConnection, owner: str, now_ms: int, lease_ms: int, limit: int,
    app_id: str | None = None,
) -> list[ClaimedMessage]:  # fmt: skip
    """Take up to ``limit`` due QUEUED messages (of one app, if given): mark them SENDING under
    our lease."""
    of_app = " AND app_id = :app" if app_id is not None else ""
    sql = text(
        "UPDATE messages SET state = 'SENDING', lease_owner = :owner, lease_until = :until, "
        "attempts = attempts + 1, updated_at = :now WHERE id IN (SELECT id FROM messages "
        f"WHERE state = 'QUEUED'{of_app} AND due_at <= :now ORDER BY due_at "
        f"LIMIT :limit{_lock(conn)}) RETURNING {CLAIMED_COLUMNS}"
    )
    params = {"owner": owner, "until": now_ms + lease_ms, "now": now_ms, "limit": limit}
    if app_id is not None:
        params["app"] = app_id
    return [ClaimedMessage.from_row(r) for r in (await conn.execute(sql, params)).all()]


RENEW_CHUNK = 500  # ids per statement: well below every driver's parameter limit


async def renew_leases(
    conn: AsyncConnection, owner: str, ids: Sequence[str], until_ms: int
) -> set[str]:
    """Extend the leases of the messages we hold and return the ids still ours (one that ran
    out but was not taken back is still ours). A message waiting in a slow lane is then not
    taken over, and sent a second time, by another worker while we are alive. Only the ids the
    dispatcher knows it holds are renewed: a claim whose commit reached the database but whose
    answer was lost left rows nobody holds, and those must run out and be reaped."""
    sql = text(
        "UPDATE messages SET lease_until = :until WHERE id IN :ids AND state = 'SENDING' "
        "AND lease_owner = :owner RETURNING id"
    ).bindparams(bindparam("ids", expanding=True))
    renewed: set[str] = set()
    for start in range(0, len(ids), RENEW_CHUNK):
        chunk = list(ids[start : start + RENEW_CHUNK])
        found = await conn.execute(sql, {"until": until_ms, "owner": owner, "ids": chunk})
        renewed.update(row.id for row in found)
    return renewed


async def mark_attempts(
    conn: AsyncConnection, owner: str, ids: Sequence[str], now_ms: int
) -> set[str]:
    """At-most-once channels: record that an attempt starts, before the driver call. Returns the
    ids still ours (only those may be sent)."""
    if not ids:
        return set()
    sql = text(
        "UPDATE messages SET send_started_at = :now WHERE id IN :ids AND state = 'SENDING' "
        "AND lease_owner = :owner RETURNING id"
    ).bindparams(bindparam("ids", expanding=True))
    found = await conn.execute(sql, {"now": now_ms, "ids": list(ids), "owner": owner})
    return {row.id for row in found}


async def load_contacts(
    conn: AsyncConnection, project_id: str, ids: set[str]
) -> dict[str, ContactDoc]:
    if not ids:
        return {}
    query = select(contacts.c.id, contacts.c.doc).where(
        contacts.c.project_id == project_id, contacts.c.id.in_(bindparam("ids", expanding=True))
    )
    return {r.id: _decode_contact(r.doc) for r in await conn.execute(query, {"ids": list(ids)})}


async def load_opt_outs(
    conn: AsyncConnection, app_id: str, identities: set[str]
) -> dict[str, set[str]]:
    if not identities:
        return {}
    query = select(consents.c.identity, consents.c.list_type).where(
        consents.c.app_id == app_id, consents.c.identity.in_(bindparam("ids", expanding=True))
    )
    found: dict[str, set[str]] = {}
    for row in await conn.execute(query, {"ids": list(identities)}):
        found.setdefault(row.identity, set()).add(row.list_type)
    return found


async def still_ours(conn: AsyncConnection, owner: str, ids: Sequence[str]) -> set[str]:
    """Of ``ids``, those we still hold (a lease that expired may have been taken over). Locks
    them on PostgreSQL until the recording transaction ends."""
    if not ids:
        return set()
    if conn.dialect.name == "postgresql":
        # One array parameter instead of hundreds of expanded ones.
        driver = await asyncpg_in_transaction(conn)
        rows = await driver.fetch(
            "SELECT id FROM messages WHERE id = ANY($1::text[]) AND lease_owner = $2 "
            "AND state = 'SENDING' FOR UPDATE",
            list(ids),
            owner,
        )
        return {row["id"] for row in rows}
    marks = ",".join("?" * len(ids))
    result = await conn.exec_driver_sql(
        f"SELECT id FROM messages WHERE id IN ({marks}) AND lease_owner = ? AND state = 'SENDING'",
        (*ids, owner),
    )
    return {row[0] for row in result}


async def finish_messages(conn: AsyncConnection, rows: Sequence[FinishedMessage]) -> None:
    """Write each message's outcome and drop its lease."""
    await update_rows(conn, "messages", "id", FINISH_COLUMNS, [r.values() for r in rows])


_COUNTER_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")


async def add_to_counters(
    conn: AsyncConnection, deltas: dict[str, dict[str, int]], now_ms: int
) -> None:
    """One UPDATE per batch with every counter change of this round. Batches are updated in id
    order: concurrent rounds touching the same batches then lock them in the same order and
    cannot deadlock."""
    for batch_id, delta in sorted(deltas.items()):
        changes = {k: batches.c[k] + v for k, v in delta.items() if v and k in _COUNTER_NAMES}
        if changes:
            await conn.execute(
                update(batches).where(batches.c.id == batch_id).values(updated_at=now_ms, **changes)
            )


async def mark_processed(
    conn: AsyncConnection, batch_ids: Sequence[str], now_ms: int
) -> Sequence[Row]:
    """READY batches with nothing left in the engine become PROCESSED."""
    if not batch_ids:
        return []
    sql = text(
        "UPDATE batches SET status = 'PROCESSED', updated_at = :now WHERE id IN :ids "
        "AND status = 'READY' AND queued = 0 RETURNING id, project_id, app_id, batch_type, "
        "operation, send_after, metadata, total, queued, sent, delivered, read, failed, "
        "cancelled, expired"
    ).bindparams(bindparam("ids", expanding=True))
    return (await conn.execute(sql, {"now": now_ms, "ids": list(batch_ids)})).all()


async def release_expired_leases(conn: AsyncConnection, now_ms: int) -> int:
    """Messages whose worker died (lease passed) go back to the queue. Rows another transaction
    has locked are skipped: that is a worker recording them right now (a dead worker's
    transaction is aborted, its locks released, and the next pass takes them); waiting for it
    instead could deadlock with its row locks."""
    result = await conn.execute(
        text(
            "UPDATE messages SET state = 'QUEUED', lease_owner = NULL, lease_until = NULL "
            "WHERE id IN (SELECT id FROM messages WHERE state = 'SENDING' "
            f"AND lease_until < :now{_lock(conn)})"
        ),
        {"now": now_ms},
    )
    return int(result.rowcount or 0)


async def release_claims(conn: AsyncConnection, owner: str) -> int:
    """On shutdown: hand back everything we hold, as if never claimed."""
    result = await conn.execute(
        text(
            "UPDATE messages SET state = 'QUEUED', lease_owner = NULL, lease_until = NULL, "
            "attempts = attempts - 1 WHERE state = 'SENDING' AND lease_owner = :owner"
        ),
        {"owner": owner},
    )
    return int(result.rowcount or 0)


async def make_due_batches_ready(conn: AsyncConnection, now_ms: int) -> Sequence[Row]:
    """SCHEDULED batches whose time came become READY, with their messages queued."""
    found = (
        await conn.execute(
            text(
                "UPDATE batches SET status = 'READY', updated_at = :now WHERE status = "
                "'SCHEDULED' AND send_after <= :now RETURNING id, project_id, app_id, "
                "batch_type, send_after, metadata"
            ),
            {"now": now_ms},
        )
    ).all()
    if found:
        await conn.execute(
            text(
                "UPDATE messages SET state = 'QUEUED' "
                "WHERE batch_id IN :ids AND state = 'SCHEDULED'"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [row.id for row in found]},
        )
    return found


async def next_scheduled_at(conn: AsyncConnection) -> int | None:
    sql = text("SELECT MIN(send_after) FROM batches WHERE status = 'SCHEDULED'")
    value = (await conn.execute(sql)).scalar()
    return None if value is None else int(value)
