"""What a scenario runs against: a setup (database and processes), the sizes of the mode
(full or smoke), and fresh deployments, each with a tenant of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace

from bench.harness import database, migrate, new_tenant
from bench.procs import Deployment, deploy


@dataclass(frozen=True)
class Mode:
    name: str
    ingest_s: float  # duration of each ingest concurrency level (and of its baseline)
    levels: tuple[int, ...]  # ingest concurrency levels
    batches: int  # dispatch, end-to-end and status: batches of `recipients`
    recipients: int
    runs: int  # dispatch runs (the median is reported)
    cancel_batches: int
    cancel_recipients: int
    stall_s: float  # end-to-end: give up when no receipt arrived for this long after dispatch
    timeout_s: float  # upper bound of any wait
    status_hz: float  # status requests per second during dispatch
    shared: bool  # one deployment per setup for every scenario (quick), or a fresh one each


FULL = Mode("full", ingest_s=20, levels=(1, 8, 32), batches=100, recipients=1000, runs=3,
            cancel_batches=1000, cancel_recipients=10, stall_s=60, timeout_s=900,
            status_hz=50, shared=False)  # fmt: skip
SMOKE = Mode("smoke", ingest_s=1.5, levels=(1, 8, 32), batches=1, recipients=1000, runs=1,
             cancel_batches=20, cancel_recipients=10, stall_s=5, timeout_s=60,
             status_hz=50, shared=True)  # fmt: skip


@dataclass(frozen=True)
class Setup:
    kind: str  # sqlite | postgresql
    workers: int  # 0: the engine runs inside the API process

    @property
    def label(self) -> str:
        if self.workers == 0:
            return "SQLite, embedded"
        plural = "s" if self.workers > 1 else ""
        return f"PostgreSQL, API + {self.workers} worker{plural}"


class Stage:
    """``with Stage(setup, mode) as stage: with stage.deployment() as dep: ...``"""

    def __init__(self, setup: Setup, mode: Mode) -> None:
        self.setup = setup
        self.mode = mode
        self._stack = ExitStack()
        self._shared: Deployment | None = None

    def __enter__(self) -> Stage:
        if self.mode.shared:
            self._shared = self._stack.enter_context(self._fresh())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    @contextmanager
    def deployment(self) -> Iterator[Deployment]:
        if self._shared is not None:
            self._shared.check()
            yield replace(self._shared, tenant=asyncio.run(new_tenant(self._shared.db_url)))
            return
        with self._fresh() as dep:
            dep.tenant = asyncio.run(new_tenant(dep.db_url))
            yield dep

    @contextmanager
    def _fresh(self) -> Iterator[Deployment]:
        with database(self.setup.kind) as db_url:
            asyncio.run(migrate(db_url))
            with deploy(self.setup.kind, db_url, self.setup.workers) as dep:
                yield dep
