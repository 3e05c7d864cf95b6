"""Dispatch: recipients per second from the first POST to the last message the sandbox channel
received (no webhooks), and the peak memory of each process meanwhile."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bench.client import Api, batch_body
from bench.harness import median
from bench.memory import RssSampler, describe, merge_peaks
from bench.procs import Deployment
from bench.report import Row, met, rate
from bench.stage import Stage
from convbatch.db.engine import Database
from convbatch.db.tables import batches, sandbox_inbox

TARGETS = {"sqlite": 5_000, "postgresql": 10_000}  # msgs/s (PostgreSQL: with 2 workers)
RSS_TARGET_MB = 250  # embedded process with 100,000 recipients in flight
POST_CONCURRENCY = 4


async def wait_done(dep: Deployment, expected: int, timeout: float) -> tuple[int, float]:
    """Wait until the sandbox received ``expected`` messages of the deployment's app and every
    batch of its project is PROCESSED; returns (messages, wall time of the last one)."""
    db = Database(dep.db_url)
    deadline = time.monotonic() + timeout
    inbox = select(func.count(), func.max(sandbox_inbox.c.received_at)).where(
        sandbox_inbox.c.app_id == dep.tenant.app_id)  # fmt: skip
    open_batches = select(func.count()).select_from(batches).where(
        batches.c.project_id == dep.tenant.project_id, batches.c.status != "PROCESSED")  # fmt: skip
    try:
        while True:
            async with db.read() as conn:
                got, last = (await conn.execute(inbox)).one()
                still_open = (await conn.execute(open_batches)).scalar_one()
            if got >= expected and still_open == 0:
                return int(got), int(last) / 1000
            dep.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{got} of {expected} messages sent after {timeout:g} s")
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


async def dispatch(dep: Deployment, stage: Stage) -> tuple[float, int, float]:
    """POST the batches and wait for the sandbox; returns (first POST, messages, last one)."""
    mode = stage.mode
    body = batch_body(dep.tenant.app_id, mode.recipients, metadata={"bench": "dispatch"})
    async with Api(dep, connections=POST_CONCURRENCY) as api:
        started, _ = await api.post_batches(body, mode.batches, POST_CONCURRENCY)
    got, last = await wait_done(dep, mode.batches * mode.recipients, mode.timeout_s)
    return started, got, last


def one_run(stage: Stage) -> tuple[float, dict[str, float]]:
    with stage.deployment() as dep, RssSampler(dep.pids()) as memory:
        started, got, last = asyncio.run(dispatch(dep, stage))
    return got / (last - started), memory.peaks


def memory_row(scenario: str, stage: Stage, peaks: dict[str, float], total: int) -> Row:
    row = Row(f"memory {scenario}", stage.setup.label, describe(peaks),
              data={"peak_rss_mb": peaks, "recipients": total})  # fmt: skip
    if stage.setup.workers == 0 and "server" in peaks:
        row.target = f"<= {RSS_TARGET_MB} MB"
        row.verdict = met(peaks["server"] <= RSS_TARGET_MB)
    return row


def run(stage: Stage) -> list[Row]:
    mode = stage.mode
    runs = [one_run(stage) for _ in range(mode.runs)]
    rates = [r for r, _ in runs]
    ours = median(rates)
    target = TARGETS[stage.setup.kind]
    total = mode.batches * mode.recipients
    row = Row(
        "dispatch", stage.setup.label, rate(ours, "msgs/s"),
        target=f">= {target:,}/s", verdict=met(ours >= target),
        data={"recipients": total, "rates": rates, "median": ours},
    )  # fmt: skip
    if len(rates) > 1:
        row.result += f" (runs {', '.join(f'{r:,.0f}' for r in rates)})"
    return [row, memory_row("dispatch", stage, merge_peaks(*(p for _, p in runs)), total)]
