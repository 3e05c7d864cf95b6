"""Metrics across real processes: ``serve --workers 2`` adds its API processes' counts up in
every scrape (multi-process mode), and ``convbatch worker --metrics-port`` serves the engine's."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.ledger import batch_body, recipients
from tests.e2e.processes import Client, Cluster, Process, Server, create_tenant
from tests.support import DatabaseFactory, free_port


def samples(text: str, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and wanted <= set(sample.labels.items())
    )


def healthz_by_process(directory: Path) -> list[float]:
    """What each API process's own file says about /healthz (files are per process id)."""
    counts = []
    for path in directory.glob("counter_*.db"):
        values = MmapedDict(str(path), read_mode=True).read_all_values()
        counts.append(sum(value for key, value, _ts in values
                          if "convbatch_api_requests" in key and '"/healthz"' in key))  # fmt: skip
    return counts


def read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return str(reply.read().decode())


async def test_api_workers_and_engine_worker_are_all_counted(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    db_url = await database_factory.postgresql()
    tenant = create_tenant(db_url)
    shared = tmp_path / "prometheus"
    metrics_port = free_port()
    with Cluster.running(db_url, tmp_path) as cluster:
        worker = Process("worker", ["worker", "--metrics-port", str(metrics_port)], cluster.env,
                         tmp_path)  # fmt: skip
        cluster.processes.append(worker.start())
        api = Server(
            "api", {**cluster.env, "PROMETHEUS_MULTIPROC_DIR": str(shared)}, tmp_path, engine=False
        )
        api.args += ["--workers", "2"]
        cluster.processes.append(api.start())

        # New connections each time, so both API processes answer some of them.
        fresh = httpx.Limits(max_keepalive_connections=0)
        healthz = {"method": "GET", "route": "/healthz", "status": "200"}
        async with httpx.AsyncClient(base_url=api.url, limits=fresh) as http:
            text = (await http.get("/metrics")).text
            expected = samples(text, "convbatch_api_requests_total", **healthz)
            for _round in range(20):
                for _ in range(20):
                    assert (await http.get("/healthz")).status_code == 200
                expected += 20
                if len([n for n in healthz_by_process(shared) if n]) >= 2:
                    break
            for _ in range(6):  # whichever process answers, it reports every process's count
                text = (await http.get("/metrics")).text
                assert samples(text, "convbatch_api_requests_total", **healthz) == expected
        answered = [n for n in healthz_by_process(shared) if n]
        assert sum(answered) == expected
        assert len(answered) >= 2, "one API process answered every request"

        async with Client(api.url, tenant) as client:
            app_id = await client.create_app()
            people = recipients("+1777", 250)
            batch_id = await client.send(batch_body(app_id, people))
            deadline = time.monotonic() + 60
            while (await client.status(batch_id))["status"] != "PROCESSED":
                assert time.monotonic() < deadline, "batch not processed"
                await asyncio.sleep(0.1)
        engine_text = read(f"http://127.0.0.1:{metrics_port}/metrics")
        assert samples(engine_text, "convbatch_messages_total") == 250
        assert samples(engine_text, "convbatch_messages_total", channel="SMS") == 250
        api_text = read(f"{api.url}/metrics")
        assert samples(api_text, "convbatch_messages_accepted_total") == 250
        assert samples(api_text, "convbatch_queue_messages", state="QUEUED") == 0
