"""A rate limit is global: three worker processes sharing one app channel limited to 200 msg/s
send at that rate together, not 3 x 200, measured where the channel received the messages."""

from __future__ import annotations

import bisect
from pathlib import Path

from convbatch.engine.ratelimit import burst_for
from tests.e2e.ledger import (
    Ledger,
    assert_delivered_once,
    batch_body,
    read_ledger,
    recipients,
    wait_settled,
)
from tests.e2e.processes import Client, Cluster, create_tenant
from tests.support import DatabaseFactory

LIMIT = 200  # messages per second
TOTAL = 4400  # about 22 s at the limit: the 20 s the requirement names, plus a margin


def busiest_second(times_ms: list[int]) -> int:
    """The most messages in any one-second window (a window starts at each message)."""
    ordered = sorted(times_ms)
    return max(bisect.bisect_left(ordered, t + 1000) - i for i, t in enumerate(ordered))


def busiest_granted_second(spans: list[tuple[int, int]]) -> int:
    """The most messages certainly granted within one second. A message's grant happened
    between the start of the round that sent it (``updated_at``, the limiter's clock reading)
    and its arrival at the channel, so a span wholly inside a window is a grant in it."""
    ordered = sorted(spans)
    starts = [s for s, _ in ordered]
    peak = 0
    for i, start in enumerate(starts):
        end = start + 1000
        inside = ordered[i : bisect.bisect_left(starts, end)]
        peak = max(peak, sum(1 for _, arrived in inside if arrived < end))
    return peak


def spans(ledger: Ledger) -> list[tuple[int, int]]:
    started = {m.id: m.updated_at for m in ledger.messages}
    return [(started[r.message_id], r.received_at) for r in ledger.inbox]


async def test_three_workers_share_one_rate_limit(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    db_url = await database_factory.postgresql()
    tenant = create_tenant(db_url)
    with Cluster.running(db_url, tmp_path) as cluster:
        api = cluster.server(engine=False, name="api")
        for i in range(3):
            cluster.worker(f"worker-{i}")
        async with Client(api.url, tenant) as client:
            app_id = await client.create_app(rate_limit=LIMIT)
            groups = [recipients(f"+4{n}", min(1000, TOTAL - start))
                      for n, start in enumerate(range(0, TOTAL, 1000))]  # fmt: skip
            batch_ids = await client.send_all([batch_body(app_id, g) for g in groups])
        await wait_settled(db_url, batch_ids, TOTAL / LIMIT + 40)
    ledger = await read_ledger(db_url, batch_ids)
    identities = {p["recipient"]["identified_by"]["channel_identities"][0]["identity"]
                  for g in groups for p in g}  # fmt: skip
    assert_delivered_once(ledger, identities)
    assert not cluster.errors(), cluster.errors()[:5]  # e.g. deadlocks between workers

    received = [r.received_at for r in ledger.inbox]
    span = (max(received) - min(received)) / 1000
    rate = (len(received) - 1) / span
    burst = burst_for(LIMIT)
    granted_peak = busiest_granted_second(spans(ledger))
    # At the channel a window can also hold messages granted up to one grant-to-arrival delay
    # before it: the bucket bounds grants, and sending takes time after the grant.
    delay = max(r - s for s, r in spans(ledger)) / 1000
    channel_peak = busiest_second(received)
    print(f"\n[e] {len(received)} messages in {span:.1f}s: {rate:.1f} msg/s; busiest second "
          f"granted {granted_peak}, at the channel {channel_peak} (limit {LIMIT}, burst "
          f"{burst:.0f}, longest grant-to-arrival {delay * 1000:.0f} ms)")  # fmt: skip
    assert granted_peak <= LIMIT + burst, f"{granted_peak} messages granted in one second"
    assert channel_peak <= LIMIT * (1 + delay) + burst, f"{channel_peak} received in one second"
    assert abs(rate - LIMIT) <= 0.1 * LIMIT, f"achieved {rate:.1f} msg/s, limit {LIMIT}"
