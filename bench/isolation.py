"""Isolation and crash rows of the streaming engine:

- slow tenant: a second tenant's one-recipient batch, POST to PROCESSED, while the first tenant's
  channel takes the operator's maximum time per send (30 s by default; 3 s in smoke runs) with
  1000 messages in flight; baseline: the same batches before the slow tenant starts (medians);
- crash re-sends (PostgreSQL): 10 x 1000 recipients on an ``http`` channel (window 64) to the
  receiver, which counts repeated Idempotency-Keys; one worker is SIGKILLed and replaced every
  second a few times during dispatch; re-sends per crash against the lane's window."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import replace

from bench.client import Api, batch_body
from bench.e2e import receiver_stats
from bench.harness import new_tenant
from bench.procs import WORKER_NICE, Deployment, process, receiver
from bench.report import Row, met
from bench.stage import Stage

# The default CONVBATCH_MAX_SANDBOX_LATENCY_MS; shorter in smoke runs, whose shared deployment
# must not spend half a minute draining the slow calls when it stops.
SLOW_SEND_MS = {"full": 30_000, "smoke": 3_000}
PROBES = 5
TARGET_S = 2.0
WINDOW = 64
CRASH_BATCHES = 10
KILLS = {"full": 5, "smoke": 1}


async def probe(api: Api, app_id: str) -> float:
    began = time.perf_counter()
    batch_id = await api.post_batch(batch_body(app_id, 1))
    await api.wait_processed([batch_id], timeout=60)
    return time.perf_counter() - began


async def measure_slow_tenant(dep: Deployment, slow_ms: int) -> dict:
    other = replace(dep, tenant=await new_tenant(dep.db_url))
    async with Api(other) as quick, Api(dep) as slow:
        alone = [await probe(quick, other.tenant.app_id) for _ in range(PROBES)]
        slow_app = await slow.create_app(
            {"channel": "SMS", "driver": "sandbox", "driver_settings": {"latency_ms": slow_ms}}
        )
        await slow.post_batch(batch_body(slow_app, 1000))
        await asyncio.sleep(0.5)  # its first send call is under way
        beside = [await probe(quick, other.tenant.app_id) for _ in range(PROBES)]
    return {"alone_s": alone, "beside_s": beside}


def slow_tenant_row(stage: Stage) -> Row:
    with stage.deployment() as dep:
        got = asyncio.run(measure_slow_tenant(dep, SLOW_SEND_MS[stage.mode.name]))
    beside, alone = statistics.median(got["beside_s"]), statistics.median(got["alone_s"])
    return Row(
        "B's 1-recipient batch beside a slow tenant", stage.setup.label,
        f"{beside * 1000:.0f} ms (max {max(got['beside_s']) * 1000:.0f})",
        baseline=f"{alone * 1000:.0f} ms alone", ratio=beside / alone if alone else None,
        target=f"<= {TARGET_S:g} s", verdict=met(max(got["beside_s"]) <= TARGET_S), data=got,
    )  # fmt: skip


async def measure_crashes(dep: Deployment, rx_url: str, stage: Stage, stack: ExitStack) -> dict:
    await receiver_stats(rx_url, reset=True)
    kills = KILLS[stage.mode.name]
    async with Api(dep) as api:
        app_id = await api.create_app({
            "channel": "SMS", "driver": "http",
            "driver_settings": {"url": f"{rx_url}/send", "concurrency": WINDOW},
        })  # fmt: skip
        _, ids = await api.post_batches(batch_body(app_id, 1000), CRASH_BATCHES, 4)
        command = [sys.executable, "-m", "convbatch", "worker", "--db", dep.db_url,
                   "--nice", str(WORKER_NICE)]  # fmt: skip
        for n in range(kills):
            await asyncio.sleep(1)
            victim = next(p for p in reversed(dep.procs) if p.name.startswith("worker")
                          and p.popen.poll() is None)  # fmt: skip
            victim.popen.kill()
            victim.popen.wait()
            dep.procs.append(stack.enter_context(process(f"worker-r{n}", command)))
        await api.wait_processed(ids, timeout=stage.mode.timeout_s)
    stats = await receiver_stats(rx_url)
    return {"kills": kills, "repeats": stats["repeats"], "received": stats["count"],
            "recipients": CRASH_BATCHES * 1000}  # fmt: skip


def crash_row(stage: Stage) -> Row:
    label = "re-sends per worker crash (http channel)"
    if stage.setup.workers == 0:
        return Row(label, stage.setup.label, "n/a (needs worker processes)")
    with stage.deployment() as dep, ExitStack() as stack, receiver() as (rx_url, _rx):
        got = asyncio.run(measure_crashes(dep, rx_url, stage, stack))
    per_crash = got["repeats"] / got["kills"]
    return Row(
        label, stage.setup.label,
        f"{per_crash:.1f} per crash ({got['repeats']} in {got['kills']} kills)",
        target=f"<= {WINDOW} (window)", verdict=met(per_crash <= WINDOW), data=got,
    )  # fmt: skip


def run(stage: Stage) -> list[Row]:
    return [slow_tenant_row(stage), crash_row(stage)]
