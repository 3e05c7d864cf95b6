"""Loading the facts a batch of claimed messages needs (batch contexts, apps, contacts, opt-outs)
in a few set-based reads, then deciding each message with the pure ``plan.decide``."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.engine import plan, queries
from convbatch.engine.context import ContextCache
from convbatch.engine.rows import ClaimedMessage

# Rendering is CPU work: in the embedded server, status reads wait behind it unless it yields.
YIELD_EVERY = 100


async def decide_all(
    conn: AsyncConnection, cache: ContextCache, rows: Sequence[ClaimedMessage], now_ms: int
) -> list[plan.Decision]:
    items = [plan.decode_item(row) for row in rows]
    contexts = await cache.batches(conn, {r.batch_id for r in rows if r.batch_id})
    by_project: dict[str, set[str]] = defaultdict(set)
    for row, item in zip(rows, items, strict=True):
        if item.recipient.contact_id:
            by_project[row.project_id].add(item.recipient.contact_id)
    contacts: dict[str, plan.ContactDoc] = {}
    for project_id, ids in by_project.items():
        contacts.update(await queries.load_contacts(conn, project_id, ids))
    by_app: dict[str, set[str]] = defaultdict(set)
    for row, item in zip(rows, items, strict=True):
        contact = contacts.get(item.recipient.contact_id or "")
        by_app[row.app_id] |= plan.identities_to_check(item, contact)
    opt_outs = {a: await queries.load_opt_outs(conn, a, ids) for a, ids in by_app.items()}
    decisions = []
    for n, (row, item) in enumerate(zip(rows, items, strict=True)):
        if n and n % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let API requests of this process run between slices
        ctx = contexts[row.batch_id or ""]
        app = await cache.app(conn, row.project_id, row.app_id)
        if app is None:
            decisions.append(plan.unknown_app(row, ctx))
            continue
        configured = cache.channels(app)
        decisions.append(
            plan.decide(row, item, ctx, configured, contacts, opt_outs[row.app_id], now_ms)
        )
    return decisions
