"""Real processes for the benchmarks: ``convbatch serve`` (embedded or API only), ``convbatch
worker`` and the webhook receiver. Logs go to temporary files (a full pipe would stall a
process); the tail of a log is shown when its process dies."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import IO, cast

from bench.harness import ROOT, free_port
from convbatch.bootstrap import Tenant

CLI = [sys.executable, "-m", "convbatch"]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: IO[bytes]

    @property
    def pid(self) -> int:
        return int(self.popen.pid)

    def check(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited ({self.popen.returncode}):\n{self.tail()}")

    def tail(self, lines: int = 15) -> str:
        self.log.flush()
        self.log.seek(0)
        return "\n".join(self.log.read().decode("utf-8", "replace").splitlines()[-lines:])


@dataclass
class Deployment:
    """A running convbatch: its base URL, database and processes, and a tenant of its own."""

    kind: str
    db_url: str
    url: str
    procs: list[Proc]
    tenant: Tenant = field(default=cast(Tenant, None))  # set by the stage before any scenario

    def pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.procs}

    def check(self) -> None:
        for proc in self.procs:
            proc.check()


@contextmanager
def process(name: str, args: list[str]) -> Iterator[Proc]:
    with tempfile.TemporaryFile(prefix=f"bench-{name}-") as log:
        popen = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        proc = Proc(name, popen, log)
        try:
            yield proc
        finally:
            _stop(popen)


def _stop(popen: subprocess.Popen) -> None:
    if popen.poll() is not None:
        return
    popen.send_signal(signal.SIGTERM)
    try:
        popen.wait(timeout=20)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()


def wait_http(url: str, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check()
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout:g} s:\n{proc.tail()}")


WORKER_NICE = 10


@contextmanager
def deploy(kind: str, db_url: str, workers: int) -> Iterator[Deployment]:
    """``workers == 0``: one embedded ``serve`` process (API and engine). Otherwise one
    ``serve --no-engine`` process and ``workers`` engine-only processes. The database must be
    migrated already, so that the processes starting side by side do not race to do it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = [*CLI, "serve", "--db", db_url, "--port", str(port)]
    commands = [("server", serve + (["--no-engine"] if workers else []))]
    # Workers yield the CPU to the API process, as a host running both should be set up.
    worker = [*CLI, "worker", "--db", db_url, "--nice", str(WORKER_NICE)]
    commands += [(f"worker{i + 1}", worker) for i in range(workers)]
    with ExitStack() as stack:
        procs = [stack.enter_context(process(name, args)) for name, args in commands]
        wait_http(f"{url}/healthz", procs[0])
        for proc in procs[1:]:
            proc.check()
        yield Deployment(kind, db_url, url, procs)


@contextmanager
def receiver() -> Iterator[tuple[str, Proc]]:
    """The webhook receiver (bench/receiver.py) in its own process; yields (base URL, proc)."""
    port = free_port()
    with process("receiver", [sys.executable, "-m", "bench.receiver", "--port", str(port)]) as p:
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_stats", p)
        yield url, p
