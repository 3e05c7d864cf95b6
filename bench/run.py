"""Run the benchmark scenarios on SQLite and PostgreSQL, print one table (with our/baseline
ratios and met/missed targets), write the JSON record under bench/results/ and, after a
complete full run, rewrite bench/RESULTS.md.

    python -m bench.run                 # full run (make bench), several minutes
    python -m bench.run --smoke         # tiny sizes, to check the harness (make bench-smoke)
    python -m bench.run --scenarios dispatch e2e --databases postgresql --pg-workers 1

Exits non-zero when a scenario breaks (an error, a timeout, a process that died); a missed
target is a result, not a failure."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from bench import cancel, dispatch, e2e, ingest, isolation, status
from bench.harness import machine
from bench.report import Row, save_json, table, write_markdown
from bench.stage import FULL, SMOKE, Setup, Stage

SCENARIOS: dict[str, Callable[[Stage], list[Row]]] = {
    "ingest": ingest.run,
    "dispatch": dispatch.run,
    "e2e": e2e.run,
    "status": status.run,
    "cancel": cancel.run,
    # Last: it kills worker processes, which a smoke run's shared deployment would then miss.
    "isolation": isolation.run,
}
DATABASES = ("sqlite", "postgresql")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; checks the harness")
    parser.add_argument("--scenarios", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--pg-workers", type=int, default=2,
                        help="worker processes beside the API process on PostgreSQL")  # fmt: skip
    return parser.parse_args()


def error_row(scenario: str, setup: Setup, exc: BaseException) -> Row:
    first = (str(exc).strip().splitlines() or [""])[0][:100]
    return Row(scenario, setup.label, f"error: {type(exc).__name__}: {first}", verdict="error")


def run_setup(setup: Setup, args: argparse.Namespace) -> tuple[list[Row], int]:
    """Every chosen scenario on one setup; returns the rows and how many scenarios broke."""
    rows: list[Row] = []
    broken = 0
    mode = SMOKE if args.smoke else FULL
    try:
        with Stage(setup, mode) as stage:
            for name in args.scenarios:
                print(f"-- {name}: {setup.label}", flush=True)
                began = time.monotonic()
                try:
                    found = SCENARIOS[name](stage)
                except Exception as exc:
                    traceback.print_exc()
                    found, broken = [error_row(name, setup, exc)], broken + 1
                for row in found:
                    row.data["scenario_seconds"] = round(time.monotonic() - began, 1)
                    print("   " + " | ".join(c for c in row.cells() if c), flush=True)
                rows += found
    except Exception as exc:  # the setup itself (database, processes) failed
        traceback.print_exc()
        rows.append(error_row("setup", setup, exc))
        broken += 1
    return rows, broken


def main() -> int:
    args = parse()
    mode = SMOKE if args.smoke else FULL
    setups = [Setup(kind, 0 if kind == "sqlite" else args.pg_workers) for kind in args.databases]
    began = time.monotonic()
    rows: list[Row] = []
    broken = 0
    for setup in setups:
        found, failed = run_setup(setup, args)
        rows += found
        broken += failed
    meta = {
        "mode": mode.name,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": " ".join(["python -m bench.run", *sys.argv[1:]]),
        "seconds": time.monotonic() - began,
        "sizes": {k: v for k, v in vars(mode).items() if k != "name"},
    }
    text = table(rows)
    title = "smoke run: tiny sizes, the numbers mean nothing" if args.smoke else "full run"
    print(f"\nconvbatch benchmarks ({title}) on {meta['machine']}\n{text}")
    print(f"\nresults: {save_json(meta, rows)}")
    complete = set(args.scenarios) == set(SCENARIOS) and set(args.databases) == set(DATABASES)
    if args.smoke or not complete or broken:
        print("bench/RESULTS.md not rewritten (only after a complete full run without errors)")
    else:
        print(f"rewrote {write_markdown(meta, rows)}")
    if broken:
        print(f"{broken} scenario(s) broke", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
