"""Webhook delivery tuning, and what an attempt's outcome means for the delivery: done, try
again later (exponential backoff with jitter, within a maximum age), or give up."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, fields
from typing import Any

PENDING, DELIVERED, FAILED, DEAD = "PENDING", "DELIVERED", "FAILED", "DEAD"
STATES = (PENDING, DELIVERED, FAILED, DEAD)


@dataclass(frozen=True)
class WebhookSettings:
    timeout_s: float = 10.0  # one HTTP attempt, connect to last byte
    backoff_base_s: float = 5.0  # first retry delay; doubles per attempt
    backoff_cap_s: float = 3600.0  # longest single delay, so a recovered endpoint waits <= 1 h
    max_age_s: float = 24 * 3600.0  # retrying stops this long after the event (or a re-drive)
    per_target: int = 8  # requests in flight to one endpoint URL
    concurrency: int = 64  # requests in flight in total
    per_project: int = 32  # requests in flight for one project's endpoints together
    prefetch: int = 512  # deliveries claimed ahead of sending, per sender
    lease_margin_s: float = 30.0  # a claim outlives its HTTP timeout by this much
    drain_s: float = 5.0  # on close, how long requests in flight may still finish
    settle_s: float = 0.05  # an idle round waits this long for a request in flight to end

    @classmethod
    def from_settings(cls, extra: dict[str, Any] | None = None) -> WebhookSettings:
        """Defaults, then ``CONVBATCH_WEBHOOK_<FIELD>`` variables, then ``webhook_<field>``
        entries of ``extra`` (Settings.extra)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            kind = type(getattr(cls, f.name))
            raw = os.environ.get(f"CONVBATCH_WEBHOOK_{f.name.upper()}")
            if raw:
                values[f.name] = kind(raw)
            if extra and f"webhook_{f.name}" in extra:
                values[f.name] = kind(extra[f"webhook_{f.name}"])
        return cls(**values)

    @property
    def lease_ms(self) -> int:
        return int((self.timeout_s + self.lease_margin_s) * 1000)


def classify(status: int | None) -> str:
    """DELIVERED for 2xx; PENDING (retry) for no answer, 408, 429 and 5xx; FAILED otherwise."""
    if status is None or status in (408, 429) or status >= 500:
        return PENDING
    return DELIVERED if 200 <= status < 300 else FAILED


def backoff_ms(settings: WebhookSettings, attempt: int, retry_after_s: float | None) -> int:
    """Delay before attempt ``attempt + 1``: base doubling per attempt up to the cap, plus up to
    20% jitter so endpoints that failed together are not retried as one wave. A Retry-After
    from the receiver is honoured when longer (still capped)."""
    delay = min(settings.backoff_cap_s, settings.backoff_base_s * 2 ** max(0, attempt - 1))
    if retry_after_s is not None:
        delay = min(settings.backoff_cap_s, max(delay, retry_after_s))
    return int(delay * 1000 * (1 + random.uniform(0, 0.2)))


def after_attempt(
    settings: WebhookSettings, status: int | None, attempt: int, now_ms: int,
    retry_since_ms: int, retry_after_s: float | None = None,
) -> tuple[str, int]:  # fmt: skip
    """The delivery's new state and next attempt time after attempt number ``attempt``."""
    verdict = classify(status)
    if verdict != PENDING:
        return verdict, now_ms
    deadline = retry_since_ms + int(settings.max_age_s * 1000)
    if now_ms >= deadline:
        return DEAD, now_ms
    # The last try happens at the deadline itself rather than being skipped.
    return PENDING, min(now_ms + backoff_ms(settings, attempt, retry_after_s), deadline)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
