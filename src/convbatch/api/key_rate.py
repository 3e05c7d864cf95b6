"""A request rate per access key: a token bucket per key in each API process. Past it, the
answer is 429 ``RESOURCE_EXHAUSTED`` with ``Retry-After``, so one tenant's burst cannot take the
API from the others. (With several API processes each keeps its own buckets: the rate a key gets
is per process.)"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class KeyRateLimiter:
    def __init__(
        self, rate_per_s: float, burst: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_s
        self.burst = max(1.0, burst)
        self._monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}

    def wait_needed(self, key_id: str) -> float:
        """0 when the request may go ahead (and is counted), else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self._monotonic()
        bucket = self._buckets.get(key_id)
        if bucket is None:
            if len(self._buckets) > 100_000:  # forget idle keys rather than grow without end
                self._buckets.clear()
            bucket = self._buckets[key_id] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
