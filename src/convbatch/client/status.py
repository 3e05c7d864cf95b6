"""``convbatch status``: where the messages of some batches stand, as one progress bar each.

A bar fills as messages leave the queue; its text gives the batch status and the counts that
are not zero. ``--watch`` redraws until every batch is PROCESSED (or CANCELLED)."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from convbatch.client.http import BatchApi

FINAL = ("PROCESSED", "CANCELLED")
COUNT_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")


async def fetch(
    api: BatchApi, batch_ids: list[str], metadata: tuple[str, str] | None
) -> list[dict[str, Any]]:
    found = list(await asyncio.gather(*(api.status(b) for b in batch_ids)))
    if metadata is not None:
        found += await api.by_metadata(*metadata)
    return found


def finished(statuses: list[dict[str, Any]]) -> bool:
    return all(s.get("status") in FINAL for s in statuses)


def describe(status: dict[str, Any]) -> str:
    counts = status.get("counts") or {}
    shown = ", ".join(f"{name} {counts[name]}" for name in COUNT_NAMES if counts.get(name))
    return f"{status['batch_id']} {status.get('status', '?'):<9} {shown}"


def new_progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=console, transient=False, auto_refresh=False,
    )  # fmt: skip


def update(progress: Progress, tasks: dict[str, TaskID], statuses: list[dict[str, Any]]) -> None:
    for status in statuses:
        counts = status.get("counts") or {}
        total = int(counts.get("total", 0))
        done = total - int(counts.get("queued", 0))
        if status["batch_id"] not in tasks:
            tasks[status["batch_id"]] = progress.add_task(describe(status), total=total)
        progress.update(
            tasks[status["batch_id"]], description=describe(status), total=total, completed=done
        )
    progress.refresh()


async def show(
    api: BatchApi, batch_ids: list[str], metadata: tuple[str, str] | None,
    watch: bool, interval: float, console: Console,
) -> list[dict[str, Any]]:  # fmt: skip
    """Draw the bars once, or until every batch is final with ``watch``; the last statuses."""
    statuses = await fetch(api, batch_ids, metadata)
    tasks: dict[str, TaskID] = {}
    with new_progress(console) as progress:
        update(progress, tasks, statuses)
        while watch and not finished(statuses):
            await asyncio.sleep(interval)
            statuses = await fetch(api, batch_ids, metadata)
            update(progress, tasks, statuses)
    return statuses
