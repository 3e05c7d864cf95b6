"""Status: GET /messages/{batch_id} of a 1000-recipient batch while the dispatch scenario's load
runs; p50 and p99 latency.

The requests are paced (``status_hz`` per second, one at a time) and come from their own thread
and event loop, so the posting and waiting of the load do not delay them in the client."""

from __future__ import annotations

import asyncio
import threading
import time

from bench.client import Api, batch_body
from bench.dispatch import POST_CONCURRENCY, wait_done
from bench.harness import median, percentile
from bench.procs import Deployment
from bench.report import Row, met
from bench.stage import Stage

TARGET_P99_MS = 10.0


async def poll(
    dep: Deployment, batch_id: str, hz: float, stop: threading.Event
) -> list[tuple[float, float]]:
    """(monotonic start, latency ms) of each GET until ``stop``."""
    latencies: list[tuple[float, float]] = []
    async with Api(dep, connections=1) as api:
        while not stop.is_set():
            began = time.perf_counter()
            status = await api.status(batch_id)
            latencies.append((began, (time.perf_counter() - began) * 1000))
            if status["batch_id"] != batch_id:
                raise RuntimeError(f"status of {batch_id} came back as {status['batch_id']}")
            await asyncio.sleep(max(0.0, 1 / hz - (time.perf_counter() - began)))
    return latencies


class Poller(threading.Thread):
    def __init__(self, dep: Deployment, batch_id: str, hz: float) -> None:
        super().__init__(name="status-poller", daemon=True)
        self.request = (dep, batch_id, hz)
        self.stop = threading.Event()
        self.latencies: list[tuple[float, float]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.latencies = asyncio.run(poll(*self.request, self.stop))
        except BaseException as exc:  # handed to the main thread
            self.error = exc

    def finish(self) -> list[tuple[float, float]]:
        self.stop.set()
        self.join()
        if self.error is not None:
            raise self.error
        return self.latencies


async def load(dep: Deployment, stage: Stage) -> tuple[list[tuple[float, float]], float]:
    """The timed GETs, and when the last batch was posted (perf_counter)."""
    mode = stage.mode
    body = batch_body(dep.tenant.app_id, mode.recipients, metadata={"bench": "status"})
    async with Api(dep, connections=POST_CONCURRENCY) as api:
        watched = await api.post_batch(body)
        poller = Poller(dep, watched, mode.status_hz)
        poller.start()
        try:
            await api.post_batches(body, mode.batches - 1, POST_CONCURRENCY)
            posted = time.perf_counter()
            await wait_done(dep, mode.batches * mode.recipients, mode.timeout_s)
        finally:
            latencies = poller.finish()
    return latencies, posted


def run(stage: Stage) -> list[Row]:
    with stage.deployment() as dep:
        timed, posted = asyncio.run(load(dep, stage))
    latencies = [ms for _, ms in timed]
    p50, p99 = median(latencies), percentile(latencies, 99)
    # Where the slow ones fall: while batches were still being posted, or during dispatch only.
    posting = [ms for at, ms in timed if at < posted] or [0.0]
    dispatching = [ms for at, ms in timed if at >= posted] or [0.0]
    return [Row(
        "status during dispatch", stage.setup.label,
        f"{len(latencies)} GETs; p99 {percentile(posting, 99):.0f} ms while posting, "
        f"{percentile(dispatching, 99):.0f} ms after", p50, p99,
        target=f"p99 <= {TARGET_P99_MS:g} ms", verdict=met(p99 <= TARGET_P99_MS),
        data={"requests": len(latencies), "p50_ms": p50, "p99_ms": p99,
              "p99_ms_while_posting": percentile(posting, 99),
              "p99_ms_dispatch_only": percentile(dispatching, 99),
              "recipients": stage.mode.batches * stage.mode.recipients},
    )]  # fmt: skip
