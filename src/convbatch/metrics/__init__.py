"""Prometheus metrics: definitions, the recording functions the rest of the code calls, the
``/metrics`` endpoint and the request middleware.

Import the recording functions from here (``from convbatch import metrics``;
``metrics.record_message_outcomes(...)``)."""

from convbatch.metrics.record import (
    api_request,
    dispatch_started,
    driver_call,
    messages_accepted,
    receipt,
    record_message_outcomes,
    webhook_delivery,
)

__all__ = [
    "api_request",
    "dispatch_started",
    "driver_call",
    "messages_accepted",
    "receipt",
    "record_message_outcomes",
    "webhook_delivery",
]
