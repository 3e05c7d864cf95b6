"""The per-transaction outbox: one webhook look-up per transaction, payloads as the callbacks
have always been shaped, deliveries written with the event, and per-message order kept when
several producers write events for the same messages at once (real SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import random
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select

from convbatch.callbacks.outbox import BatchFacts, MessageFacts, Outbox
from convbatch.db.tables import messages, outbox_events, webhook_deliveries
from tests.api.builders import batch
from tests.integration.helpers import wait_until
from tests.integration.webhook_kit import (
    add_webhook,
    deliveries,
    receipt,
    receiver,
    states,
    webhook_env,
)

NOW = datetime(2026, 5, 4, 3, 2, 1, 500_000, tzinfo=UTC)
STAMP = "2026-05-04T03:02:01.500000Z"


@contextmanager
def statements(db: Any) -> Any:
    """Every SQL statement the database runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    engine = db.writer.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def facts(env: Any, message_id: str = "01JMSG0000000000000000000A", **changes: Any) -> MessageFacts:
    values: dict[str, Any] = dict(
        project_id=env.api.project, app_id=env.app_id, message_id=message_id,
        batch_id="01JBATCH000000000000000000", index=7, channel="SMS", identity="+15550009",
        contact_id=None, metadata="m=1", processing_mode="DISPATCH",
        public_batch_id="01JBATCH000000000000000000", correlation_id="corr", callback_url=None,
    )  # fmt: skip
    values.update(changes)
    return MessageFacts(**values)


def only_postgresql(settings: Any) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: no concurrent producers")


async def stored_payloads(env: Any) -> dict[str, dict[str, Any]]:
    async with env.api.db.read() as conn:
        rows = await conn.execute(select(outbox_events).order_by(outbox_events.c.id))
        return {r.trigger: json.loads(r.payload) for r in rows}


async def test_one_webhook_lookup_per_transaction(settings):
    async with webhook_env(settings) as env, receiver() as rx:
        api = env.api
        body = {"display_name": "Second"}
        second = (await api.client.post(api.conv_url("/apps"), json=body, headers=api.auth)).json()
        await add_webhook(env, rx.url("/a"), triggers=("MESSAGE_DELIVERY", "CONTACT_CREATE"))
        await add_webhook(env, rx.url("/b"), triggers=("MESSAGE_SUBMIT",), app_id=second["id"])
        with statements(api.db) as seen:
            async with api.db.transaction() as conn:
                outbox = Outbox(conn, NOW)
                for i in range(20):
                    outbox.delivery_report(facts(env, f"01JMSG{i:020d}"), "DELIVERED")
                    outbox.submit_notification(
                        facts(env, f"01JMSG{i:020d}", app_id=second["id"]), "SMS", "+1", {}
                    )
                assert await outbox.flush() == 40
                outbox.contact_changed("CONTACT_CREATE", api.project, "01JBATCH0000000000000000C",
                                       {"id": "c1"})  # fmt: skip
                outbox.delivery_report(facts(env, app_id="no-such-app"), "READ")
                assert await outbox.flush() == 1  # nobody subscribes to the second report
        lookups = [s for s in seen if "FROM webhooks" in s]
        assert len(lookups) == 1 and outbox.subscriptions.lookups == 1
        rows = await deliveries(env)
        assert len(rows) == 41
        assert {r.target for r in rows if r.trigger == "MESSAGE_SUBMIT"} == {rx.url("/b")}
        assert [r.app_id for r in rows if r.trigger == "CONTACT_CREATE"] == [env.app_id]


async def test_payloads_are_shaped_as_before(settings):
    async with webhook_env(settings) as env, receiver() as rx:
        triggers = ("MESSAGE_DELIVERY", "MESSAGE_SUBMIT", "BATCH_STATUS_UPDATE",
                    "BATCH_PROCESSING_REPORT", "CONTACT_DELETE", "OPT_OUT")  # fmt: skip
        await add_webhook(env, rx.url(), triggers=triggers)
        project, app = env.api.project, env.app_id
        b = BatchFacts("01JBATCH000000000000000000", project, app, "MESSAGES", 1_800_000_000_000,
                       '{"k":"v"}')  # fmt: skip

        async def failures(_conn: Any) -> list[dict[str, Any]]:
            return [{"message_index": 2, "reason": {"code": "X", "description": "y"}}]

        async with env.api.db.transaction() as conn:
            outbox = Outbox(conn, NOW)
            outbox.delivery_report(facts(env), "FAILED", "RECIPIENT_NOT_REACHABLE", "gone")
            outbox.submit_notification(facts(env), "SMS", "+15550009", {"text_message": {}})
            outbox.batch_status(b, "SCHEDULED")
            outbox.processing_report(b, {"total": 3, "failed": 1}, failures)
            outbox.contact_changed("CONTACT_DELETE", project, b.id, {"id": "c1"})
            outbox.opted_out(project, app, b.id, "+15550009", "OPT_OUT_ALL")
            assert await outbox.flush() == 6
        got = await stored_payloads(env)
        common = {"app_id": app, "accepted_time": STAMP, "event_time": STAMP,
                  "project_id": project, "message_metadata": "", "correlation_id": ""}  # fmt: skip
        identity = {"channel": "SMS", "identity": "+15550009", "app_id": app}
        assert got["MESSAGE_DELIVERY"] == {**common, "correlation_id": "corr",
            "message_delivery_report": {
                "message_id": "01JMSG0000000000000000000A", "conversation_id": "",
                "status": "FAILED", "channel_identity": identity, "contact_id": "",
                "metadata": "m=1", "processing_mode": "DISPATCH",
                "reason": {"code": "RECIPIENT_NOT_REACHABLE", "description": "gone",
                           "sub_code": "UNSPECIFIED_SUB_CODE"},
                "batch_id": b.id, "message_index": 7}}  # fmt: skip
        assert got["MESSAGE_SUBMIT"] == {**common, "correlation_id": "corr",
            "message_submit_notification": {
                "message_id": "01JMSG0000000000000000000A", "conversation_id": "",
                "channel_identity": identity, "contact_id": "",
                "submitted_message": {"text_message": {}}, "metadata": "m=1",
                "processing_mode": "DISPATCH"}}  # fmt: skip
        assert got["BATCH_STATUS_UPDATE"] == {**common, "batch_status_update_notification": {
            "batch_id": b.id, "batch_status": "BATCH_STATUS_SCHEDULED",
            "batch_type": "BATCH_TYPE_MESSAGES", "additional_data": {"message_batch_data": {
                "batch_metadata": {"k": "v"}, "send_after": "2027-01-15T08:00:00Z"}}}}  # fmt: skip
        assert got["BATCH_PROCESSING_REPORT"] == {**common,
            "batch_processing_report_notification": {
                "batch_id": b.id, "batch_type": "BATCH_TYPE_MESSAGES",
                "counts": {"total": 3, "failed": 1},
                "failed_messages": [{"message_index": 2,
                                     "reason": {"code": "X", "description": "y"}}]}}  # fmt: skip
        deleted = {"contact_delete_notification": {"contact": {"id": "c1"}}}
        assert got["CONTACT_DELETE"] == {**common, "app_id": "", **deleted}
        assert got["OPT_OUT"] == {**common, "opt_out_notification": {
            "request_id": b.id, "contact_id": "", "channel": "", "identity": "+15550009",
            "status": "OPT_OUT_SUCCEEDED", "list_type": "OPT_OUT_ALL"}}  # fmt: skip
        async with env.api.db.read() as conn:
            states_ = {r.state for r in await conn.execute(select(outbox_events.c.state))}
        assert states_ == {"FANNED_OUT"}
        assert len(await deliveries(env)) == 6  # in the same transaction: no fan-out step


async def test_nothing_is_written_or_built_without_a_subscriber(settings):
    async with webhook_env(settings) as env:
        built = []

        async def failures(_conn: Any) -> list[dict[str, Any]]:
            built.append(1)
            return []

        b = BatchFacts("01JBATCH000000000000000000", env.api.project, env.app_id, "MESSAGES",
                       None, "{}")  # fmt: skip
        async with env.api.db.transaction() as conn:
            outbox = await Outbox.open(conn, NOW, [env.api.project])
            assert not outbox.listens(env.api.project, env.app_id, "MESSAGE_DELIVERY")
            outbox.processing_report(b, {}, failures)
            outbox.delivery_report(facts(env), "DELIVERED")
            assert await outbox.flush() == 0
        assert built == [] and await deliveries(env) == []


async def real_messages(env: Any, count: int) -> list[str]:
    """Ids of message rows that exist (the outbox locks them on PostgreSQL)."""
    reply = await env.api.post("/messages", batch(env.app_id, count))
    assert reply.status_code == 200, reply.text
    async with env.api.db.read() as conn:
        rows = await conn.execute(select(messages.c.id).order_by(messages.c.idx))
        return [r.id for r in rows]


async def test_order_holds_with_concurrent_producers(settings):
    """Producers write receipts for the same messages at once, each holding its transaction
    open for a random while after writing: every message's events reach the endpoint in the
    order the producers committed, each exactly once."""
    async with webhook_env(settings) as env, receiver() as rx:
        await add_webhook(env, rx.url())
        msgs = await real_messages(env, 5)
        committed: list[int] = []

        async def producer(n: int) -> None:
            await asyncio.sleep(random.uniform(0, 0.05))
            async with env.api.db.transaction() as conn:
                outbox = Outbox(conn, env.clock.now())
                for m in random.sample(msgs, len(msgs)):
                    report = receipt(env, m, "DELIVERED")
                    report.payload["producer"] = n
                    outbox.add(report)
                await outbox.flush()
                # Flushes of the same messages wait for each other: this one is next.
                committed.append(n)
                await asyncio.sleep(random.uniform(0, 0.03))

        async def sending() -> None:
            while len(committed) < 12 or len(rx.calls) < 60:
                await env.sender.run_once()
                await asyncio.sleep(0.005)

        await asyncio.wait_for(asyncio.gather(sending(), *(producer(n) for n in range(12))), 60)
        seen: dict[str, list[int]] = {}
        for body in rx.bodies():
            seen.setdefault(body["message_delivery_report"]["message_id"], []).append(
                body["producer"]
            )
        assert seen == {m: committed for m in msgs}

        async def recorded() -> bool:
            await env.sender.run_once()
            return states(await deliveries(env)) == ["DELIVERED"] * 60

        await wait_until(recorded, every=0.01)
        assert len(rx.calls) == 60


async def test_a_later_event_waits_for_one_still_being_written(settings):
    """PostgreSQL (SQLite has one writer at a time): a producer holds its transaction open
    after writing a message's first event; a second producer's event for that message cannot
    come before it, however the sender runs."""
    only_postgresql(settings)
    async with webhook_env(settings) as env, receiver() as rx:
        await add_webhook(env, rx.url())
        [msg] = await real_messages(env, 1)
        written, release = asyncio.Event(), asyncio.Event()
        second_done = asyncio.Event()

        async def first() -> None:
            async with env.api.db.transaction() as conn:
                outbox = Outbox(conn, env.clock.now())
                outbox.add(receipt(env, msg, "QUEUED_ON_CHANNEL"))
                await outbox.flush()
                written.set()
                await release.wait()

        async def second() -> None:
            await written.wait()
            async with env.api.db.transaction() as conn:
                outbox = Outbox(conn, env.clock.now())
                outbox.add(receipt(env, msg, "DELIVERED"))
                await outbox.flush()
            second_done.set()

        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        await written.wait()
        for _ in range(20):
            await env.sender.run_once()
            await asyncio.sleep(0.01)
        assert rx.calls == [] and not second_done.is_set()  # the second waits for the first
        release.set()

        async def both_sent() -> bool:
            await env.sender.run_once()
            return len(rx.calls) == 2

        await wait_until(both_sent, every=0.01)
        await asyncio.gather(*tasks)
        got = [b["message_delivery_report"]["status"] for b in rx.bodies()]
        assert got == ["QUEUED_ON_CHANNEL", "DELIVERED"]


async def test_producers_of_different_messages_do_not_wait_for_each_other(settings):
    """No global lock: on PostgreSQL, a transaction holding events of one message open does
    not hold up another writing events of another message."""
    only_postgresql(settings)
    async with webhook_env(settings) as env, receiver() as rx:
        await add_webhook(env, rx.url())
        one, two = await real_messages(env, 2)
        written, release = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with env.api.db.transaction() as conn:
                outbox = Outbox(conn, env.clock.now())
                outbox.add(receipt(env, one, "DELIVERED"))
                await outbox.flush()
                written.set()
                await release.wait()

        task = asyncio.create_task(holder())
        await written.wait()
        async with env.api.db.transaction() as conn:
            outbox = Outbox(conn, env.clock.now())
            outbox.add(receipt(env, two, "DELIVERED"))
            await asyncio.wait_for(outbox.flush(), 10)
        release.set()
        await task

        async def delivered() -> bool:
            await env.sender.run_once()
            return states(await deliveries(env)) == ["DELIVERED"] * 2

        await wait_until(delivered, every=0.01)
        async with env.api.db.read() as conn:
            keys = [r.order_key for r in await conn.execute(select(webhook_deliveries))]
        assert sorted(keys) == sorted([one, two])
