"""Group commit: concurrent write jobs share transactions on SQLite, and a failing job neither
takes the others down nor leaves anything of itself behind."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select, text

from convbatch.db.bulk import insert_rows
from convbatch.db.engine import Database
from convbatch.db.group import GroupCommit
from convbatch.db.tables import projects


class Boom(Exception):
    pass


def add_project(name: str, fail: bool = False, seen: list[int] | None = None):
    async def job(conn):
        await insert_rows(conn, projects, ("id", "display_name", "created_at"), [(name, name, 1)])
        if seen is not None:
            seen.append(id(conn))  # one connection object per transaction
        if fail:
            raise Boom(name)
        return name

    return job


async def stored(db: Database) -> list[str]:
    async with db.read() as conn:
        return sorted(r.id for r in await conn.execute(select(projects.c.id)))


async def test_concurrent_jobs_commit_with_their_own_results(database_url):
    db = Database(database_url)
    group = GroupCommit(db, max_group=4)
    try:
        names = [f"p{i}" for i in range(10)]
        results = await asyncio.gather(*(group.run(add_project(n)) for n in names))
        assert results == names
        assert await stored(db) == sorted(names)
    finally:
        await db.dispose()


async def test_a_failing_job_fails_alone_and_writes_nothing(database_url):
    db = Database(database_url)
    group = GroupCommit(db, max_group=8)
    try:
        jobs = [add_project("a"), add_project("bad", fail=True), add_project("c")]
        outcomes = await asyncio.gather(*(group.run(j) for j in jobs), return_exceptions=True)
        assert outcomes[0] == "a" and outcomes[2] == "c"
        assert isinstance(outcomes[1], Boom)
        assert await stored(db) == ["a", "c"]
    finally:
        await db.dispose()


async def test_sqlite_jobs_waiting_together_share_one_transaction(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    async with db.transaction() as conn:
        await conn.execute(
            text("CREATE TABLE projects (id TEXT PRIMARY KEY, display_name TEXT, created_at INT)")
        )
    group = GroupCommit(db, max_group=16)
    try:
        seen: list[int] = []
        # While the first job's transaction waits for the writer, the other four queue up and
        # then run together in the next one.
        async with db.transaction() as blocker:
            await blocker.execute(text("SELECT 1"))
            first = asyncio.create_task(group.run(add_project("x0", seen=seen)))
            await asyncio.sleep(0.05)
            rest = [asyncio.create_task(group.run(add_project(f"x{i}", seen=seen)))
                    for i in range(1, 5)]  # fmt: skip
            await asyncio.sleep(0.05)
            assert seen == []  # nothing ran: the writer is busy
        await asyncio.gather(first, *rest)
        assert len(seen) == 5 and len(set(seen[1:])) == 1  # the four shared one connection
        assert await stored(db) == [f"x{i}" for i in range(5)]
    finally:
        await db.dispose()


@pytest.mark.parametrize(("size", "transactions"), [(1, 6), (3, 2), (16, 1)])
async def test_group_size_bounds_each_transaction(tmp_path, size, transactions):
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    async with db.transaction() as conn:
        await conn.execute(
            text("CREATE TABLE projects (id TEXT PRIMARY KEY, display_name TEXT, created_at INT)")
        )
    begins: list[int] = []
    event.listen(db.writer.sync_engine, "begin", lambda _conn: begins.append(1))
    group = GroupCommit(db, max_group=size)
    try:
        # All six are waiting before the first group starts.
        await asyncio.gather(*(group.run(add_project(f"n{i}")) for i in range(6)))
        assert len(begins) == transactions
        assert await stored(db) == [f"n{i}" for i in range(6)]
    finally:
        await db.dispose()
