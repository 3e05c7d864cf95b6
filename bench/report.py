"""Result rows, the one table, the JSON record under bench/results/ and bench/RESULTS.md."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import RESULTS, ROOT

MARKDOWN = ROOT / "bench" / "RESULTS.md"
HEADER = ["scenario", "setup", "result", "p50 ms", "p99 ms", "baseline", "ours/base", "target",
          "verdict"]  # fmt: skip

METHODS = """\
How each row is measured (bench/*.py):

- setups: SQLite = one embedded `convbatch serve` (API and engine in one process); PostgreSQL =
  one `convbatch serve --no-engine` plus the given number of `convbatch worker --nice 10`
  processes (workers yield the CPU to the API). The load generator, the database and the
  webhook receiver run on the same machine.
- ingest: 1000-recipient `POST /messages` in a closed loop at each concurrency for a fixed time;
  the batches are scheduled an hour ahead so the engine stays idle and only ingest is measured.
  Baseline: the rows one accepted batch wrote (the columns it set), copied with new ids and
  inserted with `insert_rows` (COPY / executemany) into a fresh database no server uses, one
  batch per transaction, same concurrency.
- dispatch: recipients per second from the first POST to the last message the sandbox
  received (no webhooks); median of the runs shown.
- end-to-end: as dispatch, with a `MESSAGE_DELIVERY` webhook to a local aiohttp receiver
  (`QUEUED_ON_CHANNEL` and `DELIVERED` per recipient); receipts per second from the first POST
  to the last receipt at the receiver. Baseline: the same number of identical signed receipt
  POSTs sent straight to the receiver over as many connections as the webhook sender uses.
- status: `GET /messages/{batch_id}` of a 1000-recipient batch, paced, while the other 99
  batches are posted and dispatched; the p99 of each phase is shown too.
- cancel: `DELETE /messages` by metadata of scheduled batches until
  `GET /messages?metadataKey=&metadataValue=` shows all of them CANCELLED.
- isolation: a second tenant's 1-recipient batch (POST to PROCESSED, median of 5) while the
  first tenant's channel takes the maximum send time with 1000 messages in flight, against the
  same batches before (baseline); and, with worker processes, re-sends per SIGKILLed worker on
  an `http` channel (window 64) counted by the receiver's repeated Idempotency-Keys.
- memory: peak VmRSS of each process (sampled every 0.1 s) during dispatch and end-to-end.
"""


@dataclass
class Row:
    scenario: str
    setup: str
    result: str
    p50: float | None = None
    p99: float | None = None
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> list[str]:
        return [self.scenario, self.setup, self.result, _ms(self.p50), _ms(self.p99),
                self.baseline, "" if self.ratio is None else f"{self.ratio:.2f}", self.target,
                self.verdict]  # fmt: skip


def met(ok: bool) -> str:
    return "met" if ok else "missed"


def rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}"


def _ms(value: float | None) -> str:
    if value is None or math.isnan(value):
        return ""
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(rows: list[Row]) -> str:
    cells = [row.cells() for row in rows]
    widths = [max(len(c) for c in column) for column in zip(HEADER, *cells, strict=True)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(HEADER), rule, *(line(c) for c in cells)])


def save_json(meta: dict[str, Any], rows: list[Row]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{meta['mode']}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({**meta, "rows": [asdict(r) for r in rows]}, indent=2))
    return path


def write_markdown(meta: dict[str, Any], rows: list[Row]) -> Path:
    text = "\n".join([
        "# Benchmark results",
        "",
        "The latest full run of the benchmark harness; `make bench` rewrites this file.",
        "",
        f"- Date: {meta['date']}",
        f"- Machine: {meta['machine']}",
        f"- Command: `{meta['command']}`",
        f"- Duration of the run: {meta['seconds']:.0f} s",
        "",
        table(rows),
        "",
        METHODS,
    ])  # fmt: skip
    MARKDOWN.write_text(text)
    return MARKDOWN
