"""Small recording functions for the code that does the work: one call per event, no metric
objects or label names outside this package."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from convbatch.metrics import definitions as m

# States a message leaves the queue in; a retry or a channel switch puts it back (not counted).
LEFT_QUEUE = frozenset({"SENT", "FAILED", "EXPIRED"})
# Webhook delivery states after an attempt, as outcome labels.
_WEBHOOK_OUTCOMES = {"DELIVERED": "delivered", "PENDING": "retry", "FAILED": "failed",
                     "DEAD": "dead"}  # fmt: skip


def messages_accepted(count: int) -> None:
    m.MESSAGES_ACCEPTED.inc(count)


def record_message_outcomes(outcomes: Iterable[tuple[str, str | None]]) -> None:
    """Count ``(state, channel)`` pairs of messages whose outcome was just committed."""
    tally: dict[tuple[str, str], int] = {}
    for state, channel in outcomes:
        if state in LEFT_QUEUE:
            key = (state, channel or "NONE")
            tally[key] = tally.get(key, 0) + 1
    for (state, channel), count in tally.items():
        m.MESSAGES.labels(state, channel).inc(count)


def receipt(status: str, channel: str | None) -> None:
    m.RECEIPTS.labels(status, channel or "NONE").inc()


def dispatch_started() -> Callable[[int], None]:
    """Call at the start of a round; call what it returns with the messages claimed."""
    began = time.perf_counter()

    def done(claimed: int) -> None:
        if claimed:
            m.DISPATCH_ROUNDS.observe(time.perf_counter() - began)
            m.DISPATCHED.inc(claimed)

    return done


@contextmanager
def driver_call(driver: str, channel: str) -> Iterator[None]:
    """Time one driver send call (whether it returns or raises)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        m.DRIVER_CALLS.labels(driver, channel).observe(time.perf_counter() - began)


def webhook_delivery(state: str, seconds: float | None) -> None:
    """One attempt's resulting delivery state; ``seconds`` is None when nothing was posted."""
    m.WEBHOOK_DELIVERIES.labels(_WEBHOOK_OUTCOMES.get(state, state.lower())).inc()
    if seconds is not None:
        m.WEBHOOK_LATENCY.observe(seconds)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The labelled children of the request metrics, kept so a request skips the label lookup.
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def api_request(method: str, route: str, status: int, seconds: float) -> None:
    if method not in _METHODS:
        method = "OTHER"  # a client's made-up method must not create series
    series = _request_series.get((method, route, status))
    if series is None:
        series = (m.API_REQUESTS.labels(method, route, str(status)),
                  m.API_LATENCY.labels(method, route))  # fmt: skip
        _request_series[(method, route, status)] = series
    series[0].inc()
    series[1].observe(seconds)
