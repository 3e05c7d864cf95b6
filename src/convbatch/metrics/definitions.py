"""Every metric convbatch exports, defined once per process.

Counters and histograms live in prometheus-client's default registry, which becomes per-process
files when ``PROMETHEUS_MULTIPROC_DIR`` is set (``convbatch serve --workers N`` sets it), so a
scrape of any API process adds up all of them. Gauges of what the database holds (queue depth,
connections) are not kept here: they are read when ``/metrics`` is scraped (see ``scrape.py``)."""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

# In multi-process mode every metric made below opens a file in that directory at once.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Seconds: from a few milliseconds (a sandbox send) to the 30 s a slow channel may take.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

MESSAGES_ACCEPTED = Counter(
    "convbatch_messages_accepted",
    "Recipients accepted by POST /messages (one message each).",
)
MESSAGES = Counter(
    "convbatch_messages",
    "Messages that left the queue, by the state they left it in (SENT, FAILED, EXPIRED) and "
    "the channel of the last attempt.",
    ["state", "channel"],
)
RECEIPTS = Counter(
    "convbatch_message_receipts",
    "Delivery receipts applied after the send (QUEUED_ON_CHANNEL, DELIVERED, READ, FAILED).",
    ["status", "channel"],
)
DISPATCH_ROUNDS = Histogram(
    "convbatch_dispatch_round_seconds",
    "Time of one dispatch round that claimed messages: decide, send, record.",
    buckets=LATENCY_BUCKETS,
)
DISPATCHED = Counter("convbatch_dispatch_claimed_messages", "Messages claimed by dispatch rounds.")
DRIVER_CALLS = Histogram(
    "convbatch_driver_call_seconds",
    "Time of one driver send call (one call carries a group of messages).",
    ["driver", "channel"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "convbatch_webhook_deliveries",
    "Webhook delivery attempts by outcome (delivered, retry, failed, dead).",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "convbatch_webhook_delivery_seconds",
    "Time of one webhook POST until its answer (or its failure).",
    buckets=LATENCY_BUCKETS,
)
API_REQUESTS = Counter(
    "convbatch_api_requests",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
)
API_LATENCY = Histogram(
    "convbatch_api_request_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
