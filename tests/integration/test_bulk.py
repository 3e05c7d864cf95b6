"""Bulk statements must stay inside the caller's transaction, even as its first statement."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from convbatch.db.bulk import insert_rows, update_rows
from convbatch.db.engine import Database
from convbatch.db.tables import projects


class Boom(Exception):
    pass


async def count(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(projects))).scalar_one())


async def test_bulk_insert_and_update_roll_back_with_the_transaction(database_url):
    db = Database(database_url)
    try:
        with pytest.raises(Boom):
            async with db.transaction() as conn:
                await insert_rows(conn, projects, ("id", "display_name", "created_at"),
                                  [("p1", "a", 1), ("p2", "b", 2)])  # fmt: skip
                raise Boom
        assert await count(db) == 0
        async with db.transaction() as conn:
            await insert_rows(
                conn, projects, ("id", "display_name", "created_at"), [("p1", "a", 1)]
            )
        with pytest.raises(Boom):
            async with db.transaction() as conn:
                await update_rows(conn, "projects", "id", [("display_name", "text")], [("p1", "z")])
                raise Boom
        async with db.read() as conn:
            name = (await conn.execute(select(projects.c.display_name))).scalar_one()
        assert name == "a"
        async with db.transaction() as conn:
            await update_rows(conn, "projects", "id", [("display_name", "text")], [("p1", "z")])
        async with db.read() as conn:
            assert (await conn.execute(select(projects.c.display_name))).scalar_one() == "z"
    finally:
        await db.dispose()


@pytest.mark.parametrize("json_functions", [True, False])
async def test_a_batchs_message_rows_are_stored_exactly(database_url, json_functions, monkeypatch):
    """The SQLite path sends a batch's rows as one JSON array (or binds them one by one where
    SQLite lacks JSON functions): every value must come back as given (text with quotes,
    backslashes and non-ASCII, large integers)."""
    from convbatch.batches import repository
    from convbatch.batches.repository import MESSAGE_COLUMNS, NewMessages, insert_messages
    from convbatch.db.tables import messages

    monkeypatch.setattr(repository, "SQLITE_HAS_JSON", json_functions)

    payloads = ['{"a":"quote \\" and \\\\ back"}', '{"name":"Zoë 🙂"}', "{}"]
    new = NewMessages(
        "proj",
        "app",
        "01HBATCH0000000000000000000"[:26],
        "QUEUED",
        1_790_000_000_123,
        1_790_000_000_000,
        [(f"01HZZZZZZZZZZZZZZZZZZZZZ{i:02d}", i, payloads[i % 3]) for i in range(7)],
    )
    rows = [(f"01HZZZZZZZZZZZZZZZZZZZZZ{i:02d}", "proj", "app", "01HBATCH0000000000000000000"[:26],
             i, payloads[i % 3], "QUEUED", 1_790_000_000_123, 1_790_000_000_000,
             1_790_000_000_000) for i in range(7)]  # fmt: skip
    db = Database(database_url)
    try:
        async with db.transaction() as conn:
            await insert_messages(conn, new)
        async with db.read() as conn:
            query = select(*(messages.c[name] for name in MESSAGE_COLUMNS)).order_by(messages.c.idx)
            stored = [tuple(r) for r in await conn.execute(query)]
        assert stored == rows
    finally:
        await db.dispose()
