"""Deliveries that gave up: listed with their attempts, re-driven through the extension API and
the CLI, and out of reach of other projects."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from convbatch.callbacks.cli import webhooks_app
from tests.api.conversation_client import Conv, assert_not_found, bad_field, conv
from tests.integration.webhook_kit import (
    Env,
    add,
    add_webhook,
    deliveries,
    drive,
    message_ids,
    receipt,
    receiver,
    states,
    webhook_env,
)

FAST_DEATH = {"max_age_s": 60, "backoff_base_s": 5}


def listing(client: Conv, app_id: str, **params: str):
    return client.get(f"/apps/{app_id}/webhook-deliveries", **params)


async def until_dead(env: Env, count: int) -> None:
    async def dead() -> bool:
        rows = await deliveries(env)
        return len(rows) == count and states(rows) == ["DEAD"] * count

    await drive(env, dead, advance_s=20)


async def test_dead_after_max_age_then_redriven(settings):
    async with webhook_env(settings, **FAST_DEATH) as env, receiver(default=503) as rx:
        client = conv(env.api)
        await add_webhook(env, rx.url())
        [msg] = message_ids(1)
        await add(env, [receipt(env, msg, "DELIVERED")])
        start_ms = int(env.clock.now().timestamp() * 1000)
        await until_dead(env, 1)
        [row] = await deliveries(env)
        assert row.attempts >= 3 and row.finished_at >= start_ms + 60_000

        reply = await listing(client, env.app_id, state="DEAD")
        assert reply.status_code == 200, reply.text
        [dead] = reply.json()["deliveries"]
        assert (
            dead["id"] == row.id
            and dead["state"] == "DEAD"
            and dead["trigger"] == ("MESSAGE_DELIVERY")
        )
        assert dead["payload"]["message_delivery_report"]["message_id"] == msg
        assert dead["next_attempt_time"] is None and dead["last_status"] == 503
        log = dead["attempt_log"]
        assert len(log) == row.attempts == len(rx.calls)
        assert {a["http_status"] for a in log} == {503}
        assert log[0]["response_body"] == "24 bytes, not kept"  # never the body itself
        assert [a["attempt"] for a in log] == list(range(1, len(log) + 1))

        rx.default = 200
        reply = await client.post(f"/apps/{env.app_id}/webhook-deliveries:redrive", {})
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"delivery_ids": [row.id]}
        assert (await listing(client, env.app_id, state="DEAD")).json()["deliveries"] == []
        [pending] = (await listing(client, env.app_id, state="PENDING")).json()["deliveries"]
        assert (pending["attempts"], pending["redrives"]) == (0, 1)

        async def delivered() -> bool:
            return states(await deliveries(env)) == ["DELIVERED"]

        await drive(env, delivered)
        [done] = (await listing(client, env.app_id)).json()["deliveries"]
        assert done["state"] == "DELIVERED" and done["attempts"] == 1
        assert [a["http_status"] for a in done["attempt_log"]][-1] == 200
        assert len(done["attempt_log"]) == len(log) + 1


async def test_redrive_by_id_paging_and_bad_input(settings):
    async with webhook_env(settings, **FAST_DEATH) as env, receiver(default=503) as rx:
        client = conv(env.api)
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, m, "DELIVERED") for m in message_ids(3)])
        await until_dead(env, 3)
        first = (await listing(client, env.app_id, state="DEAD", page_size="2")).json()
        assert len(first["deliveries"]) == 2 and first["next_page_token"]
        rest = await listing(client, env.app_id, state="DEAD", page_size="2",
                             page_token=first["next_page_token"])  # fmt: skip
        assert len(rest.json()["deliveries"]) == 1 and rest.json()["next_page_token"] == ""
        ids = [d["id"] for d in first["deliveries"] + rest.json()["deliveries"]]
        assert ids == sorted(ids) and len(set(ids)) == 3

        path = f"/apps/{env.app_id}/webhook-deliveries:redrive"
        reply = await client.post(path, {"delivery_ids": [ids[1], "01ARZ3NDEKTSV4RRFFQ69G5FAV"]})
        assert reply.json() == {"delivery_ids": [ids[1]]}
        again = await client.post(path, {"delivery_ids": [ids[1]]})  # PENDING now: not moved
        assert again.json() == {"delivery_ids": []}
        assert bad_field(await listing(client, env.app_id, state="LOST")) == "state"
        assert bad_field(await client.post(path, {"delivery_ids": "all"})) == "delivery_ids"
        assert bad_field(await listing(client, env.app_id, page_token="nope")) == "page_token"


async def test_other_projects_cannot_see_or_redrive(settings):
    async with webhook_env(settings, **FAST_DEATH) as env, receiver(default=503) as rx:
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, message_ids(1)[0], "DELIVERED")])
        await until_dead(env, 1)
        tenant, token = await env.api.new_tenant()
        other = Conv(env.api.client, tenant.project_id, token)
        assert_not_found(await listing(other, env.app_id))
        path = f"/apps/{env.app_id}/webhook-deliveries:redrive"
        assert_not_found(await other.post(path, {}))
        assert states(await deliveries(env)) == ["DEAD"]
        # Their own app has no deliveries of ours.
        assert (await listing(other, tenant.app_id)).json()["deliveries"] == []
        # Our project path with their token is refused outright.
        theirs = Conv(env.api.client, env.api.project, token)
        assert (await listing(theirs, env.app_id)).status_code == 403
        assert_not_found(await listing(conv(env.api), "01ARZ3NDEKTSV4RRFFQ69G5FAV"))


async def test_cli_lists_and_redrives_dead_deliveries(settings):
    async with webhook_env(settings, **FAST_DEATH) as env, receiver(default=503) as rx:
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, m, "DELIVERED") for m in message_ids(2)])
        await until_dead(env, 2)
        runner = CliRunner()
        base = ["--project", env.api.project, "--db", settings.database_url]

        def cli(*args: str):
            return asyncio.to_thread(runner.invoke, webhooks_app, [*args, *base])

        listed = await cli("dead", "--json", "--app", env.app_id)
        assert listed.exit_code == 0, listed.output
        found = json.loads(listed.output)["deliveries"]
        assert sorted(d["id"] for d in found) == sorted(r.id for r in await deliveries(env))
        assert all(d["state"] == "DEAD" and d["attempt_log"] for d in found)
        table = await cli("dead")
        assert table.exit_code == 0 and "2 dead deliveries" in table.output
        redriven = await cli("redrive", "--json")
        assert redriven.exit_code == 0, redriven.output
        assert len(json.loads(redriven.output)["delivery_ids"]) == 2
        assert states(await deliveries(env)) == ["PENDING", "PENDING"]
        assert json.loads((await cli("dead", "--json")).output) == {"deliveries": []}


async def test_redriven_events_of_one_message_go_in_order(settings):
    async with webhook_env(settings, **FAST_DEATH) as env, receiver(default=503) as rx:
        client = conv(env.api)
        await add_webhook(env, rx.url())
        [msg] = message_ids(1)
        await add(env, [receipt(env, msg, "QUEUED_ON_CHANNEL"), receipt(env, msg, "DELIVERED")])
        await until_dead(env, 2)
        first, second = await deliveries(env)
        # The second waited for the first to give up, then had no time left of its own.
        assert first.attempts >= 3 and second.attempts == 1
        rx.default = 200
        reply = await client.post(f"/apps/{env.app_id}/webhook-deliveries:redrive", {})
        assert sorted(reply.json()["delivery_ids"]) == sorted([first.id, second.id])
        pending = (await listing(client, env.app_id, state="PENDING")).json()["deliveries"]
        waiting = {d["id"]: d["waiting_for_earlier"] for d in pending}
        assert waiting == {first.id: False, second.id: True}
        calls_before = len(rx.calls)

        async def delivered() -> bool:
            return states(await deliveries(env)) == ["DELIVERED", "DELIVERED"]

        await drive(env, delivered)
        statuses = [b["message_delivery_report"]["status"] for b in rx.bodies()[calls_before:]]
        assert statuses == ["QUEUED_ON_CHANNEL", "DELIVERED"]
