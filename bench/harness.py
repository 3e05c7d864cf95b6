"""Shared pieces of the benchmarks: databases, server processes, tenants, result tables."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "CONVBATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CLI = [sys.executable, "-m", "convbatch"]


@dataclass(frozen=True)
class Tenant:
    project_id: str
    key_id: str
    key_secret: str
    app_id: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_json(*args: str, db: str) -> dict:
    out = subprocess.run([*CLI, *args, "--db", db, "--json"], check=True, capture_output=True)
    return dict(json.loads(out.stdout))


def create_tenant(db: str) -> Tenant:
    project = cli_json("projects", "create", db=db)["project_id"]
    key = cli_json("keys", "create", "--project", project, db=db)
    app = cli_json("apps", "create", "--project", project, db=db)
    return Tenant(project, key["key_id"], key["key_secret"], app["app_id"])


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` (sqlite or postgresql), removed afterwards."""
    import asyncio

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="convbatch-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"convbatch_bench_{os.getpid()}_{int(time.time())}"
    asyncio.run(_pg_admin(f"CREATE DATABASE {name}"))
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextmanager
def server(db: str, *extra: str) -> Iterator[str]:
    """A real ``convbatch serve`` process; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--db", db, "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, proc)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def worker(db: str) -> Iterator[subprocess.Popen]:
    """A real ``convbatch worker`` process (engine only)."""
    proc = subprocess.Popen([*CLI, "worker", "--db", db], stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for(url: str, proc: subprocess.Popen) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    pad = lambda cells: [str(c).ljust(w) for c, w in zip(cells, widths, strict=True)]  # noqa: E731
    lines = [title, "| " + " | ".join(pad(header)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
              for r in rows]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    return text


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2))
    return path
