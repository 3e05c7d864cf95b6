"""Several senders on one database (as several worker processes would be): each delivery is
made once, per-message order holds, and a crashed sender's claims are taken over."""

from __future__ import annotations

import asyncio

from convbatch.callbacks.policy import WebhookSettings
from convbatch.callbacks.sender import OutboxSender
from tests.integration.helpers import wait_until
from tests.integration.webhook_kit import (
    HANG,
    add,
    add_webhook,
    deliveries,
    message_ids,
    receipt,
    receiver,
    states,
    webhook_env,
)

STATUSES = ("QUEUED_ON_CHANNEL", "DELIVERED", "READ")


async def test_two_senders_share_the_work_without_duplicates(settings):
    async with webhook_env(settings) as env, receiver() as one, receiver() as two:
        await add_webhook(env, one.url())
        await add_webhook(env, two.url())
        msgs = message_ids(40)
        for status in STATUSES:
            await add(env, [receipt(env, m, status) for m in msgs])
        other = OutboxSender(env.api.db, env.clock, WebhookSettings())
        try:

            async def settled() -> bool:
                await asyncio.gather(env.sender.run_once(), other.run_once())
                rows = await deliveries(env)
                return len(rows) == 240 and set(states(rows)) == {"DELIVERED"}

            await wait_until(settled, every=0.01)
        finally:
            await other.aclose()
        for rx in (one, two):
            assert len(rx.calls) == 120  # each delivery made exactly once
            seen: dict[str, list[str]] = {}
            for body in rx.bodies():
                report = body["message_delivery_report"]
                seen.setdefault(report["message_id"], []).append(report["status"])
            assert seen == {m: list(STATUSES) for m in msgs}


async def test_a_crashed_senders_claims_are_taken_over_after_the_lease(settings):
    async with webhook_env(settings, timeout_s=60) as env, receiver() as rx:
        rx.script.extend([HANG] * 3)
        await add_webhook(env, rx.url())
        msgs = message_ids(3)
        await add(env, [receipt(env, m, "DELIVERED") for m in msgs])
        crashed = OutboxSender(env.api.db, env.clock, WebhookSettings(timeout_s=60))
        await crashed.run_once()

        async def all_hanging() -> bool:
            return len(rx.calls) == 3

        await wait_until(all_hanging)
        # The process dies: its requests vanish, nothing is recorded or handed back.
        for task in list(crashed._tasks):
            task.cancel()
        await asyncio.gather(*crashed._tasks, return_exceptions=True)
        assert crashed._session is not None
        await crashed._session.close()
        assert await env.sender.run_once() == 0  # still leased to the dead sender
        env.clock.advance(60 + 30 + 1)  # past the lease: timeout plus margin
        rx.release.set()

        async def delivered() -> bool:
            await env.sender.run_once()
            return states(await deliveries(env)) == ["DELIVERED"] * 3

        await wait_until(delivered, every=0.01)
        assert len(rx.calls) == 6  # at least once: the lost attempts were made again
        assert sorted(b["message_delivery_report"]["message_id"] for b in rx.bodies()[3:]) == (
            sorted(msgs)
        )


async def test_claims_waiting_in_a_queue_keep_their_lease(settings):
    """One lane to the endpoint, its first request hanging, 59 more claimed deliveries waiting
    behind it while the clock runs past their lease (90 s here) several times: the sender
    renews their leases, so a second sender takes none of them and nothing is sent twice."""
    tuning = {"per_target": 1, "timeout_s": 60}
    async with webhook_env(settings, **tuning) as env, receiver(default=HANG) as rx:
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, m, "DELIVERED") for m in message_ids(60)])
        other = OutboxSender(env.api.db, env.clock, WebhookSettings(**tuning))
        try:
            await env.sender.run_once()
            assert env.sender.in_flight == 60  # all claimed ahead of sending

            async def first_one_hanging() -> bool:
                return len(rx.calls) == 1

            await wait_until(first_one_hanging)
            for _ in range(6):
                env.clock.advance(20)
                await env.sender.run_once()
                await other.run_once()
                assert other.in_flight == 0
            assert len(rx.calls) == 1
            rx.release.set()
            rx.default = 200

            async def settled() -> bool:
                await env.sender.run_once()
                await other.run_once()
                return states(await deliveries(env)) == ["DELIVERED"] * 60

            await wait_until(settled, every=0.01)
        finally:
            await other.aclose()
        assert len(rx.calls) == 60
