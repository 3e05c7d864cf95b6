"""Cancel by metadata: scheduled batches (an hour ahead) sharing one metadata value; the time
from DELETE /messages by that key and value until GET /messages?metadataKey=&metadataValue=
shows every one of them CANCELLED."""

from __future__ import annotations

import asyncio
import time

from bench.client import Api, batch_body, in_an_hour
from bench.procs import Deployment
from bench.report import Row, met
from bench.stage import Stage

KEY = "campaign"
TARGET_S = 2.0
POST_CONCURRENCY = 8


async def measure(dep: Deployment, stage: Stage) -> dict:
    mode = stage.mode
    value = f"bench-{time.monotonic_ns()}"
    body = batch_body(dep.tenant.app_id, mode.cancel_recipients, metadata={KEY: value},
                      send_after=in_an_hour())  # fmt: skip
    async with Api(dep, connections=POST_CONCURRENCY) as api:
        await api.post_batches(body, mode.cancel_batches, POST_CONCURRENCY)
        listed = await api.by_metadata(KEY, value)
        if len(listed) != mode.cancel_batches or {b["status"] for b in listed} != {"SCHEDULED"}:
            raise RuntimeError(f"expected {mode.cancel_batches} SCHEDULED batches before cancel")
        began = time.perf_counter()
        await api.cancel_by_metadata(KEY, value)
        delete_s = time.perf_counter() - began
        checks = 0
        while True:
            listed = await api.by_metadata(KEY, value)
            checks += 1
            if all(b["status"] == "CANCELLED" for b in listed):
                break
            if time.perf_counter() - began > mode.timeout_s:
                raise TimeoutError(f"batches not all CANCELLED after {mode.timeout_s:g} s")
            await asyncio.sleep(0.05)
        total_s = time.perf_counter() - began
    return {"batches": len(listed), "delete_s": delete_s, "total_s": total_s, "checks": checks}


def run(stage: Stage) -> list[Row]:
    with stage.deployment() as dep:
        got = asyncio.run(measure(dep, stage))
    return [Row(
        f"cancel {got['batches']} by metadata", stage.setup.label,
        f"{got['total_s']:.2f} s (DELETE {got['delete_s'] * 1000:.0f} ms)",
        target=f"<= {TARGET_S:g} s", verdict=met(got["total_s"] <= TARGET_S), data=got,
    )]  # fmt: skip
