"""/metrics as Prometheus sees it: scraped, parsed with prometheus-client's own parser, and
checked against what was sent (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from convbatch.db.tables import webhook_deliveries
from tests.api.builders import batch, sms
from tests.integration.helpers import FAST, wait_for_status, wait_until
from tests.integration.webhook_kit import receiver
from tests.support import running_api

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


async def scrape(api, **headers: str) -> Samples:
    reply = await api.client.get("/metrics", headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain")
    found: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            found[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return found


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for key, v in samples.get(name, {}).items() if wanted <= set(key))


async def test_sending_n_recipients_moves_the_message_counters_by_n(settings) -> None:
    sent, unreachable = 37, 5  # identities ending in 01 fail at the sandbox
    async with running_api(settings.with_(**FAST), engine=True) as api:
        before = await scrape(api)
        body = batch(api.tenant.app_id, sent - unreachable)
        body["recipient_and_params"] += [
            {"recipient": sms(f"+1666{i:04d}01"), "parameters": {"name": "x"}}
            for i in range(unreachable)
        ]
        reply = await api.post("/messages", body)
        assert reply.status_code == 200, reply.text
        await wait_for_status(api, reply.json()["batch_id"], "PROCESSED")
        await api.get(f"/messages/{reply.json()['batch_id']}")
        after = await scrape(api)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert moved("convbatch_messages_accepted_total") == sent
    assert moved("convbatch_messages_total") == sent
    assert moved("convbatch_messages_total", state="FAILED", channel="SMS") == unreachable
    assert moved("convbatch_messages_total", state="SENT", channel="SMS") == sent - unreachable
    assert moved("convbatch_dispatch_claimed_messages_total") >= sent
    assert moved("convbatch_driver_call_seconds_count", driver="sandbox", channel="SMS") >= 1
    route = "/v1/projects/{project_id}/messages/{batch_id}"
    assert moved("convbatch_api_requests_total", method="GET", route=route, status="200") >= 2
    assert moved("convbatch_api_request_seconds_count", method="POST",
                 route="/v1/projects/{project_id}/messages") == 1  # fmt: skip
    assert total(after, "convbatch_queue_messages", state="QUEUED") == 0
    assert {dict(k)["state"] for k in after["convbatch_queue_messages"]} == {
        "QUEUED", "SENDING", "SCHEDULED"}  # fmt: skip
    assert total(after, "convbatch_db_pool_size") >= 1


async def test_unknown_paths_share_one_route_label_and_a_token_guards_metrics(settings) -> None:
    async with running_api(settings.with_(metrics_token="s3cret")) as api:
        assert (await api.client.get("/metrics")).status_code == 401
        wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["status"] == "UNAUTHENTICATED"
        before = await scrape(api, Authorization="Bearer s3cret")
        for n in range(3):
            await api.client.get(f"/no/such/path/{n}")
        after = await scrape(api, Authorization="Bearer s3cret")
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    moved = total(after, "convbatch_api_requests_total", **labels) - total(
        before, "convbatch_api_requests_total", **labels
    )
    assert moved == 3
    assert not any(
        "/no/such" in dict(k).get("route", "") for k in after["convbatch_api_requests_total"]
    )


async def test_webhook_deliveries_are_counted_by_outcome(settings) -> None:
    async with (
        receiver(script=deque([400])) as rx,
        running_api(settings.with_(**FAST), engine=True) as api,
    ):
        hook = {"app_id": api.tenant.app_id, "target": rx.url(), "target_type": "HTTP",
                "triggers": ["BATCH_STATUS_UPDATE"]}  # fmt: skip
        reply = await api.client.post(api.conv_url("/webhooks"), json=hook, headers=api.auth)
        assert reply.status_code == 200, reply.text
        await asyncio.sleep(1.2)  # the engine's trigger cache notices the new webhook
        before = await scrape(api)
        batch_id = (await api.post("/messages", batch(api.tenant.app_id, 2))).json()["batch_id"]
        await wait_for_status(api, batch_id, "PROCESSED")

        async def settled() -> bool:
            async with api.db.read() as conn:
                found = (await conn.execute(select(webhook_deliveries.c.state))).all()
            # Two status updates (READY, PROCESSED), each given up or delivered.
            return len(found) >= 2 and "PENDING" not in {r.state for r in found}

        await wait_until(settled)
        after = await scrape(api)
        async with api.db.read() as conn:
            rows = (await conn.execute(select(webhook_deliveries.c.state))).all()

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert len(rx.calls) == len(rows) >= 2
    assert moved("convbatch_webhook_deliveries_total", outcome="failed") == 1
    assert moved("convbatch_webhook_deliveries_total", outcome="delivered") == len(rows) - 1
    assert moved("convbatch_webhook_delivery_seconds_count") == len(rows)
    assert total(after, "convbatch_webhook_queue_deliveries", state="PENDING") == 0
