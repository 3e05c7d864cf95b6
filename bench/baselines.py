"""The limits of this machine, measured in the same run as the scenarios they bound:

- raw insert: the rows one accepted batch wrote (its batches row, metadata rows and message
  rows, copied with new ids) inserted straight into the database with insert_rows (COPY on
  PostgreSQL, executemany on SQLite), one batch per transaction, at the ingest concurrency;
- raw receiver: the same number of identical receipt POSTs sent straight to the webhook
  receiver from one aiohttp pool, as many connections as the webhook sender uses."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import msgspec
from sqlalchemy import Table, select

from bench.harness import median
from convbatch import __version__
from convbatch.callbacks import events as ev
from convbatch.callbacks.signing import signature_headers
from convbatch.db.bulk import insert_rows
from convbatch.db.engine import Database
from convbatch.db.tables import batch_metadata, batches, messages
from convbatch.ids import new_ulid, new_ulids

Template = list[tuple[Table, list[str], list[tuple[Any, ...]]]]
_KEYS = ((batches, "id"), (batch_metadata, "batch_id"), (messages, "batch_id"))


async def read_template(db_url: str, batch_id: str) -> Template:
    """The rows one accepted batch wrote (batch, metadata, messages), to be copied."""
    db = Database(db_url)
    found: Template = []
    try:
        async with db.read() as conn:
            for table, key in _KEYS:
                rows = (await conn.execute(select(table).where(table.c[key] == batch_id))).all()
                found.append(_written(table, [tuple(r) for r in rows]))
    finally:
        await db.dispose()
    if not found[2][2]:
        raise RuntimeError(f"batch {batch_id} has no message rows to copy")
    return found


def _copy(template: Template) -> list[tuple[Table, list[str], list[tuple[Any, ...]]]]:
    """The template's rows under a new batch id, messages with new ids."""
    batch_id = new_ulid()
    out = []
    for table, columns, rows in template:
        key = columns.index("id" if table is batches else "batch_id")
        ids = new_ulids(len(rows)) if table is messages else []
        copied = []
        for i, row in enumerate(rows):
            values = list(row)
            values[key] = batch_id
            if ids:
                values[0] = ids[i]  # messages.id is the first column
            copied.append(tuple(values))
        out.append((table, columns, copied))
    return out


def _written(table: Table, rows: list[tuple[Any, ...]]) -> tuple[Table, list[str], list[Any]]:
    """Only the columns the API wrote (those holding a value in some row): binding the
    others as NULL would make the baseline insert more than the API does."""
    names = [c.name for c in table.columns]
    keep = [i for i in range(len(names)) if any(row[i] is not None for row in rows)]
    return table, [names[i] for i in keep], [tuple(row[i] for i in keep) for row in rows]


async def raw_insert(db_url: str, template: Template, concurrency: int, duration: float) -> dict:
    """Copies of ``template`` inserted into ``db_url`` for ``duration`` seconds by
    ``concurrency`` tasks: message rows per second and the median transaction time."""
    db = Database(db_url)
    latencies: list[float] = []
    try:
        assert messages.columns.keys()[0] == "id"

        async def loop(deadline: float) -> None:
            while time.perf_counter() < deadline:
                rows = _copy(template)
                began = time.perf_counter()
                async with db.transaction() as conn:
                    for table, columns, values in rows:
                        await insert_rows(conn, table, columns, values)
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(loop(started + duration) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await db.dispose()
    per_batch = len(template[2][2])
    return {"rows_per_s": len(latencies) * per_batch / elapsed,
            "p50_ms": median(latencies) * 1000, "transactions": len(latencies)}  # fmt: skip


def receipt(project_id: str, app_id: str, secret: str) -> tuple[bytes, dict[str, str]]:
    """A DELIVERED receipt as the engine writes it, with the headers the sender adds."""
    report = ev.delivery_report(
        message_id=new_ulid(), status="DELIVERED", channel="SMS", identity="+15550000019",
        app_id=app_id, contact_id=None, metadata='{"_batch_id":"' + new_ulid() + '"}',
        processing_mode="DISPATCH", batch_id=new_ulid(), message_index=1,
    )  # fmt: skip
    now = datetime.now(UTC)
    body = msgspec.json.encode(
        ev.envelope(project_id, app_id, "message_delivery_report", report, now)
    )
    headers = {"Content-Type": "application/json", "User-Agent": f"convbatch/{__version__}"}
    headers.update(signature_headers(secret, body, int(now.timestamp())))
    return body, headers


async def raw_receiver(
    target: str, body: bytes, headers: dict[str, str], count: int, concurrency: int
) -> dict:
    """``count`` POSTs of ``body`` to ``target`` over ``concurrency`` connections."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        todo = iter(range(count))

        async def loop() -> None:
            for _ in todo:
                async with session.post(target, data=body, headers=headers) as reply:
                    await reply.read()
                    if reply.status != 200:
                        raise RuntimeError(f"receiver answered {reply.status}")

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": count, "seconds": elapsed, "per_s": count / elapsed}
