"""Shared pieces of the benchmarks: fresh databases, tenants, statistics, the machine's name."""

from __future__ import annotations

import asyncio
import os
import platform
import secrets
import socket
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from convbatch.bootstrap import Tenant, create_tenant
from convbatch.db.engine import Database
from convbatch.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "CONVBATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# The benchmark's webhook receiver and upstreams listen on loopback, which the outbound policy
# refuses unless opened; and every process of a run shares one secret key.
os.environ.setdefault("CONVBATCH_OUTBOUND_ALLOW", "127.0.0.0/8,::1")
os.environ.setdefault("CONVBATCH_SECRET_KEY", secrets.token_urlsafe(32))
os.environ.setdefault("CONVBATCH_KEY_RATE_PER_S", "0")  # the benchmark measures, unthrottled
# Ingest keeps a million and more recipients waiting (scheduled an hour ahead) in one project.
os.environ.setdefault("CONVBATCH_MAX_QUEUED_MESSAGES_PER_PROJECT", "100000000")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` (sqlite or postgresql), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="convbatch-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"convbatch_bench_{os.getpid()}_{time.monotonic_ns()}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def migrate(db_url: str) -> None:
    db = Database(db_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


async def new_tenant(db_url: str) -> Tenant:
    """A project, an access key and a sandbox app of its own, so scenarios sharing a database
    can count only their own messages."""
    db = Database(db_url)
    try:
        await upgrade(db)
        async with db.transaction() as conn:
            return await create_tenant(conn, int(time.time() * 1000), "Bench")
    finally:
        await db.dispose()


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {mem_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        memory = ""
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
