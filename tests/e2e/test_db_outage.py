"""The database goes away mid-dispatch and comes back (a PostgreSQL of the test's own, stopped
with ``-m immediate`` and started again 10 s later): every process stays up and recovers by
itself; while the database is away the API answers 503 UNAVAILABLE with Retry-After, and so
does the health check; afterwards nothing is lost, re-sends are bounded by the in-flight
windows (none at all on an at_most_once channel) and the counts are exact."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.counting_receiver import CountingReceiver, counting_receiver
from tests.e2e.crash_checks import WINDOW, assert_outcomes, bodies, wait_processed
from tests.e2e.ledger import read_ledger
from tests.e2e.private_pg import private_postgres
from tests.e2e.processes import Client, Cluster, create_tenant

RECIPIENTS = 10_000
WORKERS = 2
OUTAGE_S = 10
# The default lease: a worker's claims outlast the outage and its recovery, so no other worker
# may take them over before their worker records what it sent.
LEASE_MS = 30_000


async def wait_received(receiver: CountingReceiver, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(receiver.posts) < count:
        assert time.monotonic() < deadline, f"only {len(receiver.posts)} received"
        await asyncio.sleep(0.05)


async def assert_unavailable(client: Client, batch_id: str) -> None:
    """The API says 503 with Retry-After (not 500) for as long as the database is away."""
    status = await client.http.get(
        f"/v1/projects/{client.tenant.project_id}/messages/{batch_id}",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert status.status_code == 503, status.text
    assert status.json()["error"]["status"] == "UNAVAILABLE"
    assert int(status.headers["Retry-After"]) > 0
    health = await client.http.get("/healthz")
    assert health.status_code == 503 and "Retry-After" in health.headers


@pytest.mark.parametrize("guarantee", ["at_least_once", "at_most_once"])
async def test_processes_ride_out_a_database_outage(tmp_path: Path, guarantee: str) -> None:
    with private_postgres() as pg:
        tenant = create_tenant(pg.url)
        async with counting_receiver(latency_s=0.005) as receiver:
            with Cluster.running(pg.url, tmp_path, lease_ms=LEASE_MS) as cluster:
                api = cluster.server(engine=False, name="api")
                workers = [cluster.worker(f"worker-{i}") for i in range(WORKERS)]
                async with Client(api.url, tenant) as client:
                    app_id = await client.create_app(
                        driver="http", delivery_guarantee=guarantee,
                        driver_settings={"url": receiver.url, "concurrency": WINDOW},
                    )  # fmt: skip
                    batch_ids = await client.send_all(bodies(app_id, RECIPIENTS, "+6"))
                    await wait_received(receiver, 500)
                    pg.stop("immediate")
                    down_at = time.monotonic()
                    await asyncio.sleep(1)
                    await assert_unavailable(client, batch_ids[0])
                    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
                    pg.start()
                    await wait_processed(pg.url, batch_ids, timeout=300)
                    assert all(p.alive for p in [api, *workers]), cluster.logs()
                    assert (await client.status(batch_ids[0]))["status"] == "PROCESSED"
                    health = await httpx.AsyncClient(base_url=api.url).get("/healthz")
                    assert health.status_code == 200
            ledger = await read_ledger(pg.url, batch_ids)
        print(
            f"\n[outage {guarantee}] {RECIPIENTS} recipients, {OUTAGE_S} s outage: "
            f"{receiver.resends} re-sends (bound {WORKERS * WINDOW}); "
            f"{sum(1 for m in ledger.messages if m.state == 'FAILED')} failed as unknown"
        )
        assert len(ledger.messages) == RECIPIENTS
        assert_outcomes(ledger, receiver, at_most_once=guarantee == "at_most_once")
        assert receiver.resends <= WORKERS * WINDOW
