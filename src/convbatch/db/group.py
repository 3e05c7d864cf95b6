"""Group commit for SQLite: write jobs that arrive while the single writer is busy share the next
transaction, so its fixed costs (BEGIN IMMEDIATE, COMMIT, the hops to the writer's thread) are
paid once per group instead of once per request. On PostgreSQL, whose writers run in parallel,
each job simply gets its own transaction.

A group that fails is run again one job per transaction, so every caller gets its own job's
outcome and nothing of another job is lost or committed twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.db.engine import Database

T = TypeVar("T")
Job = Callable[[AsyncConnection], Awaitable[Any]]
MAX_GROUP = 16  # jobs per transaction: bounds how long one transaction holds the writer


class GroupCommit:
    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self.db = db
        self.max_group = max_group
        self._waiting: list[tuple[Job, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, job: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``job`` in a write transaction and return its result once that has committed."""
        if not self.db.is_sqlite:
            async with self.db.transaction() as conn:
                return await job(conn)
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((job, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="group-commit")
        return await done

    async def _flush(self) -> None:
        while self._waiting:
            group = self._waiting[: self.max_group]
            del self._waiting[: len(group)]
            try:
                results = await self._together(group)
            except Exception:
                await self._one_by_one(group)
                continue
            for (_job, done), result in zip(group, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def _together(self, group: list[tuple[Job, asyncio.Future[Any]]]) -> list[Any]:
        async with self.db.transaction() as conn:
            return [await job(conn) for job, _done in group]

    async def _one_by_one(self, group: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        for job, done in group:
            try:
                async with self.db.transaction() as conn:
                    result = await job(conn)
            except Exception as exc:
                if not done.done():
                    done.set_exception(exc)
            else:
                if not done.done():
                    done.set_result(result)
