"""Ingest: 1000-recipient POST /messages in a closed loop at each concurrency level for a fixed
time; recipients accepted per second, p50 and p99 latency; next to the raw insert baseline.

The batches are scheduled an hour ahead so that the engine stays idle: this measures ingest
alone (dispatch has its own scenario)."""

from __future__ import annotations

import asyncio
import time

from bench.baselines import Template, raw_insert, read_template
from bench.client import Api, batch_body, in_an_hour
from bench.harness import database, median, migrate, percentile
from bench.procs import Deployment
from bench.report import Row, met, rate
from bench.stage import Stage

TARGET_RATE, TARGET_P99_MS, TARGET_LEVEL = 100_000, 100.0, 8


async def closed_loop(api: Api, body: bytes, concurrency: int, duration: float) -> dict:
    """``concurrency`` clients each POSTing back to back until ``duration`` is over; the
    requests still in flight then are waited for and counted."""
    latencies: list[float] = []
    ids: list[str] = []

    async def client(deadline: float) -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            ids.append(await api.post_batch(body))
            latencies.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client(started + duration) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": len(ids), "seconds": elapsed, "latencies": latencies, "ids": ids}


async def measure(dep: Deployment, stage: Stage) -> tuple[list[tuple[int, dict]], Template]:
    """Our closed loop at each level, and the rows of one accepted batch."""
    mode = stage.mode
    body = batch_body(dep.tenant.app_id, mode.recipients, metadata={"bench": "ingest"},
                      send_after=in_an_hour())  # fmt: skip
    found = []
    async with Api(dep, connections=max(mode.levels)) as api:
        await closed_loop(api, body, 1, min(1.0, mode.ingest_s))  # warm-up
        for level in mode.levels:
            ours = await closed_loop(api, body, level, mode.ingest_s)
            dep.check()
            found.append((level, ours))
    return found, await read_template(dep.db_url, found[0][1]["ids"][0])


def baseline(stage: Stage, template: Template) -> dict[int, dict]:
    """The raw insert at each level, into a fresh database of the same kind that no server
    uses (the deployment is stopped by then), so it measures the database alone."""
    mode = stage.mode
    with database(stage.setup.kind) as fresh:
        asyncio.run(migrate(fresh))
        return {level: asyncio.run(raw_insert(fresh, template, level, mode.ingest_s))
                for level in mode.levels}  # fmt: skip


def run(stage: Stage) -> list[Row]:
    recipients = stage.mode.recipients
    with stage.deployment() as dep:
        measured, template = asyncio.run(measure(dep, stage))
    raws = baseline(stage, template)
    rows = []
    for level, ours in measured:
        raw = raws[level]
        per_s = ours["requests"] * recipients / ours["seconds"]
        p50, p99 = median(ours["latencies"]), percentile(ours["latencies"], 99)
        row = Row(
            f"ingest c={level}", stage.setup.label, rate(per_s, "rcpt/s"), p50, p99,
            f"raw insert {rate(raw['rows_per_s'], 'rows/s')}", per_s / raw["rows_per_s"],
            data={"concurrency": level, "requests": ours["requests"], "seconds": ours["seconds"],
                  "recipients_per_s": per_s, "p50_ms": p50, "p99_ms": p99, "baseline": raw},
        )  # fmt: skip
        if level == TARGET_LEVEL:
            row.target = f">= {TARGET_RATE:,}/s, p99 <= {TARGET_P99_MS:g} ms"
            row.verdict = met(per_s >= TARGET_RATE and p99 <= TARGET_P99_MS)
        rows.append(row)
    return rows
