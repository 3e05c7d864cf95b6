"""When to try a message again after a retryable channel error."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_ms: int = 1000
    cap_ms: int = 60_000
    max_attempts: int = 6

    def delay_ms(self, attempt: int) -> int:
        """Exponential backoff with "equal jitter": half fixed, half random, so retries of many
        messages that failed together spread out instead of returning as one wave."""
        ceiling = min(self.cap_ms, self.base_ms * 2 ** max(0, attempt - 1))
        return ceiling // 2 + random.randint(0, ceiling // 2)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
