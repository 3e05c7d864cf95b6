"""``GET /metrics``: the process's (or, in multi-process mode, every API process's) counters and
histograms, plus gauges read from the database at scrape time.

The queue gauges use only indexed counts: messages waiting or in flight (partial indexes on
their states), scheduled batches' queued counters, and pending and dead webhook deliveries. With
``CONVBATCH_METRICS_TOKEN`` set the endpoint wants ``Authorization: Bearer <that token>``."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from convbatch.db.engine import Database
from convbatch.db.tables import batches, messages, webhook_deliveries
from convbatch.errors import Unauthenticated
from convbatch.services import services_of

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Families(Collector):
    """Metric families read before the scrape, handed to a registry of their own."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def queue_families(db: Database) -> list[Metric]:
    queue = GaugeMetricFamily(
        "convbatch_queue_messages", "Messages waiting in the queue, by state.", labels=["state"]
    )
    hooks = GaugeMetricFamily(
        "convbatch_webhook_queue_deliveries",
        "Webhook deliveries waiting (PENDING) or given up (DEAD).",
        labels=["state"],
    )
    async with db.read() as conn:
        for state in ("QUEUED", "SENDING"):
            count = select(func.count()).select_from(messages).where(messages.c.state == state)
            queue.add_metric([state], (await conn.execute(count)).scalar_one())
        scheduled = select(func.coalesce(func.sum(batches.c.queued), 0)).where(
            batches.c.status == "SCHEDULED"
        )
        queue.add_metric(["SCHEDULED"], (await conn.execute(scheduled)).scalar_one())
        for state in ("PENDING", "DEAD"):  # delivered and failed ones are history, not queue
            count = select(func.count()).select_from(webhook_deliveries)
            count = count.where(webhook_deliveries.c.state == state)
            hooks.add_metric([state], (await conn.execute(count)).scalar_one())
    return [queue, hooks]


def pool_families(db: Database) -> list[Metric]:
    """Connections of this process's pools (the one answering the scrape)."""
    in_use = GaugeMetricFamily(
        "convbatch_db_connections_in_use", "Database connections checked out.", labels=["pool"]
    )
    size = GaugeMetricFamily(
        "convbatch_db_pool_size", "Connections a pool keeps open at most (without overflow).",
        labels=["pool"],
    )  # fmt: skip
    pools: dict[str, AsyncEngine] = {"writer": db.writer}
    if db.reader is not db.writer:
        pools["reader"] = db.reader
    for name, engine in pools.items():
        pool = engine.sync_engine.pool
        in_use.add_metric([name], getattr(pool, "checkedout", lambda: 0)())
        size.add_metric([name], getattr(pool, "size", lambda: 0)())
    return [in_use, size]


def process_registry() -> CollectorRegistry:
    """The default registry, or every API process's files in multi-process mode."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def authorized(request: Request, token: str) -> bool:
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


async def metrics_endpoint(request: Request) -> Response:
    services = services_of(request)
    if not authorized(request, services.settings.metrics_token):
        raise Unauthenticated("/metrics needs 'Authorization: Bearer <CONVBATCH_METRICS_TOKEN>'")
    scraped = CollectorRegistry()
    scraped.register(Families([*await queue_families(services.db), *pool_families(services.db)]))
    body = generate_latest(process_registry()) + generate_latest(scraped)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
