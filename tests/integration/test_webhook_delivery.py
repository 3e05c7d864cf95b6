"""Webhook delivery from the outbox to real local HTTP receivers: signing, fan-out, retries,
timeouts, ordering per message, isolation between endpoints, and callback URL overrides."""

from __future__ import annotations

import asyncio

from sinch import SinchClient

from convbatch.callbacks import events as ev
from convbatch.callbacks.outbox import Event
from tests.integration.webhook_kit import (
    HANG,
    Receiver,
    add,
    add_webhook,
    attempts_of,
    deliveries,
    drive,
    message_ids,
    outbox_states,
    receipt,
    receiver,
    states,
    waiting_for_earlier,
    webhook_env,
)
from tests.support import free_port


def all_in(env, state: str, count: int):
    async def check() -> bool:
        rows = await deliveries(env)
        return len(rows) == count and states(rows) == [state] * count

    return check


async def test_signed_delivery_is_accepted_by_the_sdk(settings):
    async with webhook_env(settings) as env, receiver() as rx:
        await add_webhook(env, rx.url("/cb"), secret="s3cr3t")
        [msg] = message_ids(1)
        await add(env, [receipt(env, msg, "DELIVERED", batch_id="01J9Z8K6S2X4TQ0W3M5N7P9R1B")])
        await drive(env, all_in(env, "DELIVERED", 1))
        [call] = rx.calls
        sdk = SinchClient().conversation.sinch_events("s3cr3t")
        assert sdk.validate_authentication_header(call.headers, call.body) is True
        assert not sdk.validate_authentication_header(call.headers, call.body + b" ")
        event = sdk.parse_event(call.body, call.headers)
        assert event.message_delivery_report.status == "DELIVERED"
        assert event.message_delivery_report.message_id == msg
        assert event.project_id == env.api.project and event.app_id == env.app_id
        assert call.path == "/cb"
        assert call.headers["content-type"] == "application/json"
        assert call.headers["x-sinch-webhook-signature-algorithm"] == "HmacSHA256"
        assert call.headers["x-sinch-webhook-signature-timestamp"] == str(
            int(env.clock.now().timestamp())
        )
        [row] = await deliveries(env)
        assert (row.attempts, row.last_status, row.message_id) == (1, 200, msg)
        [attempt] = await attempts_of(env, row.id)
        assert (attempt.http_status, attempt.error) == (200, None)
        assert attempt.response_body == "2 bytes, not kept"  # the reply itself is never kept
        assert await outbox_states(env) == ["FANNED_OUT"]


async def test_client_error_is_final_and_recorded(settings):
    async with webhook_env(settings) as env, receiver(default=400) as rx:
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, message_ids(1)[0], "DELIVERED")])
        await drive(env, all_in(env, "FAILED", 1))
        for _ in range(5):  # time passes; nothing is retried
            env.clock.advance(600)
            await env.sender.run_once()
        await asyncio.sleep(0.05)
        assert len(rx.calls) == 1
        [row] = await deliveries(env)
        assert (row.state, row.attempts, row.last_status) == ("FAILED", 1, 400)
        [attempt] = await attempts_of(env, row.id)
        assert attempt.http_status == 400
        assert attempt.response_body == "24 bytes, not kept"


async def test_503_and_429_are_retried_with_backoff(settings):
    async with webhook_env(settings) as env, receiver() as rx:
        rx.script.extend([503, (429, {"Retry-After": "120"}), 200])
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, message_ids(1)[0], "READ")])
        now_ms = int(env.clock.now().timestamp() * 1000)

        async def attempted(count: int):
            async def check() -> bool:
                rows = await deliveries(env)
                return bool(rows) and rows[0].attempts == count

            return check

        await drive(env, await attempted(1))
        [row] = await deliveries(env)
        assert row.state == "PENDING" and row.last_status == 503
        assert 5000 <= row.next_attempt_at - now_ms <= 6000  # 5 s plus at most 20% jitter
        for _ in range(3):  # not due yet: no second call
            await env.sender.run_once()
        await asyncio.sleep(0.05)
        assert len(rx.calls) == 1

        env.clock.advance(6)
        await drive(env, await attempted(2))
        [row] = await deliveries(env)
        assert row.state == "PENDING" and row.last_status == 429
        waited = row.next_attempt_at - (now_ms + 6000)
        assert 120_000 <= waited <= 144_000  # the receiver's Retry-After beats the 10 s backoff

        env.clock.advance(150)
        await drive(env, all_in(env, "DELIVERED", 1))
        assert [a.http_status for a in await attempts_of(env, row.id)] == [503, 429, 200]
        assert len(rx.calls) == 3
        assert len({c.body for c in rx.calls}) == 1  # the same bytes each time
        assert len({c.headers["x-sinch-webhook-signature-nonce"] for c in rx.calls}) == 3


async def test_hanging_receiver_times_out_then_is_retried(settings):
    async with webhook_env(settings, timeout_s=0.3) as env, receiver() as rx:
        rx.script.extend([HANG, 200])
        await add_webhook(env, rx.url())
        await add(env, [receipt(env, message_ids(1)[0], "DELIVERED")])

        async def timed_out() -> bool:
            rows = await deliveries(env)
            return bool(rows) and rows[0].attempts == 1

        await drive(env, timed_out)
        [row] = await deliveries(env)
        assert row.state == "PENDING" and row.last_status is None
        assert "timed out" in row.last_error
        await drive(env, all_in(env, "DELIVERED", 1), advance_s=10)
        first, second = await attempts_of(env, row.id)
        assert first.http_status is None and "timed out" in first.error
        assert first.latency_ms >= 300
        assert second.http_status == 200
        assert len(rx.calls) == 2


async def test_receiver_down_then_back_gets_everything_in_order(settings):
    port = free_port()
    async with webhook_env(settings) as env:
        await add_webhook(env, f"http://127.0.0.1:{port}/hook")
        msgs = message_ids(8)
        sequence = ("QUEUED_ON_CHANNEL", "DELIVERED", "READ")
        for status in sequence:  # as the engine writes them: one round of receipts at a time
            await add(env, [receipt(env, m, status) for m in msgs])

        async def first_ones_failing() -> bool:
            rows = await deliveries(env)
            return len(rows) == 24 and all(r.attempts >= 2 for r in rows[:8])

        await drive(env, first_ones_failing, advance_s=30)
        rows = await deliveries(env)
        assert states(rows) == ["PENDING"] * 24
        # Later receipts of a message wait for the earlier one: none was even tried.
        assert [r.attempts for r in rows[8:]] == [0] * 16
        assert await waiting_for_earlier(env) == {r.id for r in rows[8:]}
        assert "could not connect" in rows[0].last_error

        async with receiver(port=port) as rx:
            await drive(env, all_in(env, "DELIVERED", 24), advance_s=30)
            assert len(rx.calls) == 24  # none lost, none twice
            seen: dict[str, list[str]] = {}
            for body in rx.bodies():
                report = body["message_delivery_report"]
                seen.setdefault(report["message_id"], []).append(report["status"])
            assert seen == {m: list(sequence) for m in msgs}


async def test_slow_endpoint_does_not_hold_up_another(settings):
    tuning = {"per_target": 2, "concurrency": 4, "timeout_s": 60}
    async with (
        webhook_env(settings, **tuning) as env,
        receiver(default=HANG) as slow,
        receiver() as fast,
    ):
        await add_webhook(env, fast.url())
        # A backlog for the slow endpoint, older than the fast one's events and larger
        # than what one claim looks at.
        await add(env, [receipt(env, m, "DELIVERED", callback_url=slow.url())
                        for m in message_ids(60)])  # fmt: skip
        await add(env, [receipt(env, m, "DELIVERED") for m in message_ids(6)])

        async def fast_done() -> bool:
            return len(fast.calls) == 6

        await drive(env, fast_done)
        assert slow.max_in_flight == 2 and len(slow.calls) == 2  # its own two slots only
        rows = await deliveries(env)
        assert [r.state for r in rows if r.target == slow.url()] == ["PENDING"] * 60
        slow.release.set()
        await drive(env, all_in(env, "DELIVERED", 66))
        assert len(slow.calls) == 60 and slow.max_in_flight == 2


async def test_dismiss_webhook_is_not_called_and_no_secret_means_unsigned(settings):
    async with webhook_env(settings) as env, receiver() as dismissed, receiver() as plain:
        await add_webhook(env, dismissed.url(), target_type="DISMISS")
        await add_webhook(env, plain.url(), secret=None)
        await add(env, [receipt(env, message_ids(1)[0], "DELIVERED")])
        await drive(env, all_in(env, "DELIVERED", 1))
        [row] = await deliveries(env)
        assert row.target == plain.url()
        assert dismissed.calls == []
        [call] = plain.calls
        assert "x-sinch-webhook-signature" not in call.headers


async def test_callback_url_overrides_the_apps_webhooks(settings):
    async with webhook_env(settings) as env, receiver() as hook, receiver() as override:
        body = {"display_name": "Override", "callback_settings":
                {"secret_for_overridden_callback_urls": "override-secret"}}  # fmt: skip
        api = env.api
        app = (await api.client.post(api.conv_url("/apps"), json=body, headers=api.auth)).json()
        await add_webhook(env, hook.url(), secret="hook-secret", app_id=app["id"])
        first, second = message_ids(2)
        await add(env, [
            receipt(env, first, "DELIVERED", app_id=app["id"], callback_url=override.url("/o")),
            receipt(env, second, "DELIVERED", app_id=app["id"]),
        ])  # fmt: skip
        await drive(env, all_in(env, "DELIVERED", 2))
        [call] = override.calls
        assert call.path == "/o"
        assert SinchClient().conversation.sinch_events("override-secret") \
            .validate_authentication_header(call.headers, call.body)  # fmt: skip
        assert [b["message_delivery_report"]["message_id"] for b in hook.bodies()] == [second]
        assert [b["message_delivery_report"]["message_id"] for b in override.bodies()] == [first]
        webhook_ids = {r.webhook_id for r in await deliveries(env)}
        assert None in webhook_ids


async def test_project_wide_event_reaches_every_subscribed_app(settings):
    async with webhook_env(settings) as env, receiver() as one, receiver() as two, \
            receiver() as unsubscribed, receiver() as stranger:  # fmt: skip
        api = env.api
        body = {"display_name": "Second"}
        second = (await api.client.post(api.conv_url("/apps"), json=body, headers=api.auth)).json()
        await add_webhook(env, one.url(), triggers=("CONTACT_CREATE",))
        await add_webhook(env, two.url(), triggers=("MESSAGE_DELIVERY", "CONTACT_CREATE"),
                          app_id=second["id"])  # fmt: skip
        await add_webhook(env, unsubscribed.url(), app_id=second["id"])
        tenant, token = await api.new_tenant()
        headers = {"Authorization": f"Bearer {token}"}
        theirs = f"/conversation/v1/projects/{tenant.project_id}/webhooks"
        hook = {"app_id": tenant.app_id, "target": stranger.url(), "target_type": "HTTP",
                "triggers": ["CONTACT_CREATE"]}  # fmt: skip
        assert (await api.client.post(theirs, json=hook, headers=headers)).status_code == 200
        contact = {"id": "01FJA8B466Y0R2GNXD78MD9SM1", "channel_identities": [],
                   "display_name": "New", "email": "", "external_id": "", "metadata": "",
                   "language": "EN_US"}  # fmt: skip
        payload = ev.envelope(api.project, "", "contact_create_notification",
                              {"contact": contact}, env.clock.now())  # fmt: skip
        await add(env, [Event(api.project, "", "CONTACT_CREATE", payload)])
        await drive(env, all_in(env, "DELIVERED", 2))
        assert {r.app_id for r in await deliveries(env)} == {env.app_id, second["id"]}
        assert len(one.calls) == len(two.calls) == 1
        assert one.calls[0].body == two.calls[0].body
        assert unsubscribed.calls == [] and stranger.calls == []


async def test_a_deleted_webhook_stops_its_pending_deliveries(settings):
    port = free_port()
    async with webhook_env(settings) as env:
        hook = await add_webhook(env, f"http://127.0.0.1:{port}/gone")
        await add(env, [receipt(env, message_ids(1)[0], "DELIVERED")])

        async def tried() -> bool:
            rows = await deliveries(env)
            return bool(rows) and rows[0].attempts == 1

        await drive(env, tried)
        api = env.api
        reply = await api.client.delete(api.conv_url(f"/webhooks/{hook['id']}"), headers=api.auth)
        assert reply.status_code == 200
        rx = Receiver(port=port)
        await rx.start()
        try:
            await drive(env, all_in(env, "FAILED", 1), advance_s=30)
        finally:
            await rx.stop()
        [row] = await deliveries(env)
        assert row.last_error == "webhook was deleted" and row.attempts == 1
        assert rx.calls == []
