"""Metrics across processes: the shared directory of ``serve --workers N`` and the metrics port
of ``convbatch worker``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from convbatch.metrics.scrape import MULTIPROC_ENV


def prepare_multiprocess_dir() -> str:
    """Before API worker processes start: a directory for their metric files. An operator's
    ``PROMETHEUS_MULTIPROC_DIR`` is used (emptied of an earlier run's files, which would
    otherwise be added to this run's counts); without one, a new temporary directory."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return given
    made = tempfile.mkdtemp(prefix="convbatch-metrics-")
    os.environ[MULTIPROC_ENV] = made
    return made


def serve_worker_metrics(port: int, host: str) -> None:
    """Serve this process's metrics on ``host:port`` from a background thread."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)
