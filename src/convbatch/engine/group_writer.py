"""Group writes for the engine: many concurrent callers each submit a few items, one task writes
whatever has accumulated in one transaction and wakes them all. While a write runs, the next
group gathers, so the group size follows the load with no timer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    def __init__(self, write: Callable[[list[T]], Awaitable[R]]) -> None:
        self._write = write
        self._waiting: list[tuple[list[T], asyncio.Future[R]]] = []
        self._arrived = asyncio.Event()
        self.closing = False

    async def submit(self, items: list[T]) -> R:
        """Returns the result of the write that included ``items`` (or raises its error)."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((items, done))
        self._arrived.set()
        return await done

    async def run(self) -> None:
        """Write what arrives until ``close()`` and nothing is left."""
        while not (self.closing and not self._waiting):
            await self._arrived.wait()
            self._arrived.clear()
            if not self._waiting:
                continue
            taken, self._waiting = self._waiting, []
            try:
                result = await self._write([item for items, _ in taken for item in items])
            except Exception as exc:
                for _, done in taken:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in taken:
                if not done.done():
                    done.set_result(result)

    def close(self) -> None:
        self.closing = True
        self._arrived.set()
