"""Process-wide tuning of the long-running server and worker processes."""

from __future__ import annotations

import gc

# Python's default first-generation threshold (700 allocations) makes a request that decodes a
# 1000-recipient batch (thousands of small objects) run several collections, each walking the
# whole young heap; measured on ingest, collections took a quarter of the API's CPU time.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Collect once, move everything alive at start-up (modules, tables, compiled queries) out
    of the collector's sight, and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
