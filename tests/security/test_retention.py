"""Finding: nothing was ever deleted; the apps' retention_policy.ttl_days was stored and never
read."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from convbatch.db.tables import batches, messages, outbox_events, sandbox_inbox, webhook_deliveries
from convbatch.retention.prune import DAY_MS, prune_once
from tests.e2e.ledger import batch_body, recipients
from tests.integration.helpers import FAST, wait_for_status
from tests.support import running_api

TABLES = (batches, messages, outbox_events, sandbox_inbox)


async def counts(api) -> dict[str, int]:
    async with api.db.read() as conn:
        return {t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
                for t in TABLES}  # fmt: skip


async def test_database_stays_flat_across_send_and_prune_cycles(settings):
    async with running_api(settings.with_(**FAST), engine=True) as api:
        app_id = api.tenant.app_id
        patched = await api.client.patch(
            api.conv_url(f"/apps/{app_id}"), headers=api.auth,
            json={"retention_policy": {"retention_type": "MESSAGE_EXPIRE_POLICY", "ttl_days": 2}},
        )  # fmt: skip
        assert patched.status_code == 200, patched.text
        hook = {"app_id": app_id, "target": "https://example.com/h",
                "triggers": ["BATCH_STATUS_UPDATE"], "target_type": "DISMISS"}  # fmt: skip
        assert (await api.client.post(api.conv_url("/webhooks"), json=hook,
                                      headers=api.auth)).status_code == 200  # fmt: skip
        after_cycle = []
        for cycle in range(3):
            people = recipients(f"+4{cycle}", 40)
            batch_id = (await api.post("/messages", batch_body(app_id, people))).json()["batch_id"]
            await wait_for_status(api, batch_id, "PROCESSED")
            grown = await counts(api)
            assert grown["messages"] >= 40
            now = int(time.time() * 1000)
            # One day on, the app's two days have not passed: nothing of the batch goes.
            await prune_once(api.db, now + DAY_MS)
            assert (await counts(api))["messages"] == grown["messages"]
            await prune_once(api.db, now + 40 * DAY_MS)  # past the ttl and the log maxima
            after_cycle.append(await counts(api))
        # Flat: each cycle ends where the first did (an event of the last batch may still be
        # waiting for its fan-out when the pruning runs; it goes in the next pass).
        for found in after_cycle:
            assert (found["batches"], found["messages"], found["sandbox_inbox"]) == (0, 0, 0)
            assert found["outbox_events"] <= 2, after_cycle
        async with api.db.read() as conn:
            left = select(func.count()).select_from(webhook_deliveries)
            assert (await conn.execute(left)).scalar_one() <= 2
