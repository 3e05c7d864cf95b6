"""End-to-end: the dispatch scenario with a MESSAGE_DELIVERY webhook to a local receiver
(QUEUED_ON_CHANNEL and DELIVERED for every recipient): receipts per second from the first POST
to the last receipt at the receiver, next to the receiver's raw capacity.

Waiting is bounded: after every message reached the sandbox, the wait ends when no receipt
arrived for ``stall_s``, or at the mode's timeout. No receipt at all reads "n/a (no webhook
delivery)"; receipts that stop short of the total are an error; receipts still arriving at the
timeout are reported as a (missed) result."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bench.baselines import raw_receiver, receipt
from bench.client import Api, batch_body
from bench.dispatch import POST_CONCURRENCY, memory_row, wait_done
from bench.memory import RssSampler
from bench.procs import Deployment, receiver
from bench.report import Row, met, rate
from bench.stage import Stage
from convbatch.callbacks.policy import WebhookSettings

SECRET = "bench-webhook-secret"
RECEIPTS_PER_RECIPIENT = 2  # QUEUED_ON_CHANNEL, DELIVERED
TARGET_RATIO = 0.5


async def receiver_stats(url: str, reset: bool = False) -> dict:
    async with aiohttp.ClientSession() as session:
        method, path = ("POST", "/_reset") if reset else ("GET", "/_stats")
        async with session.request(method, url + path) as reply:
            return dict(await reply.json())


async def wait_receipts(url: str, expected: int, stall_s: float, timeout: float) -> dict:
    """The receiver's stats once ``expected`` requests arrived ("complete"), none arrived for
    ``stall_s`` ("stalled") or ``timeout`` is over while they still come ("timeout")."""
    deadline = time.monotonic() + timeout
    seen, changed = -1, time.monotonic()
    while True:
        stats = await receiver_stats(url)
        now = time.monotonic()
        if stats["count"] != seen:
            seen, changed = stats["count"], now
        if stats["count"] >= expected:
            return {**stats, "outcome": "complete"}
        if now - changed > stall_s:
            return {**stats, "outcome": "stalled"}
        if now > deadline:
            return {**stats, "outcome": "timeout"}
        await asyncio.sleep(0.2)


async def measure(dep: Deployment, rx_url: str, stage: Stage) -> tuple[float, dict]:
    mode = stage.mode
    total = mode.batches * mode.recipients
    await receiver_stats(rx_url, reset=True)
    body = batch_body(dep.tenant.app_id, mode.recipients, metadata={"bench": "e2e"})
    async with Api(dep, connections=POST_CONCURRENCY) as api:
        await api.create_webhook(f"{rx_url}/hook", SECRET)
        started, _ = await api.post_batches(body, mode.batches, POST_CONCURRENCY)
    _count, last_sent = await wait_done(dep, total, mode.timeout_s)
    sent_s = last_sent - started
    left = max(0.0, mode.timeout_s - (time.time() - started))
    stats = await wait_receipts(rx_url, total * RECEIPTS_PER_RECIPIENT, mode.stall_s, left)
    return started, {**stats, "all_sent_s": sent_s}


async def baseline(dep: Deployment, rx_url: str, count: int, connections: int) -> dict:
    """Measured before the webhook exists, so no delivery of ours lands in it."""
    await receiver_stats(rx_url, reset=True)
    body, headers = receipt(dep.tenant.project_id, dep.tenant.app_id, SECRET)
    raw = await raw_receiver(f"{rx_url}/hook", body, headers, count, connections)
    got = (await receiver_stats(rx_url))["count"]
    if got != count:
        raise RuntimeError(f"receiver counted {got} of {count} baseline requests")
    return {**raw, "connections": connections}


def outcome_row(stage: Stage, started: float, stats: dict, raw: dict, data: dict) -> Row:
    base = f"raw receiver {rate(raw['per_s'], 'req/s')} ({raw['connections']} conns)"
    row = Row("end-to-end", stage.setup.label, "", baseline=base,
              target=f">= {TARGET_RATIO:.0%} of baseline", data=data)  # fmt: skip
    count, expected = stats["count"], data["expected"]
    if count == 0:
        row.result, row.verdict = "n/a (no webhook delivery)", "n/a"
        return row
    if stats["outcome"] == "stalled":
        idle = stage.mode.stall_s
        raise RuntimeError(f"receipts stopped at {count} of {expected} (none for {idle:g} s)")
    seconds = stats["last"] - started
    per_s = count / seconds
    row.ratio = per_s / raw["per_s"]
    row.result = (f"{rate(per_s, 'receipts/s')}, last at {seconds:.1f} s "
                  f"(all sent at {stats['all_sent_s']:.1f} s)")  # fmt: skip
    if stats["outcome"] == "timeout":
        row.result += f" (only {count:,} of {expected:,}: timed out)"
    row.verdict = met(row.ratio >= TARGET_RATIO and stats["outcome"] == "complete")
    data.update(seconds=seconds, receipts_per_s=per_s)
    return row


def run(stage: Stage) -> list[Row]:
    mode = stage.mode
    total = mode.batches * mode.recipients
    expected = total * RECEIPTS_PER_RECIPIENT
    hooks = WebhookSettings.from_settings()
    connections = min(hooks.concurrency, hooks.per_target)  # one target: per_target bounds it
    with receiver() as (rx_url, _rx), stage.deployment() as dep:
        raw = asyncio.run(baseline(dep, rx_url, expected, connections))
        with RssSampler(dep.pids()) as memory:
            started, stats = asyncio.run(measure(dep, rx_url, stage))
    data = {"recipients": total, "expected": expected, "receiver": stats, "baseline": raw}
    row = outcome_row(stage, started, stats, raw, data)
    return [row, memory_row("end-to-end", stage, memory.peaks, total)]
