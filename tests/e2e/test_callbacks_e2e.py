"""End to end: a real server process, an app with a webhook to a local receiver, one batch of
1000 recipients mixing the sandbox's identity classes. The receiver must get exactly the expected
receipt sequence per recipient, signed so the official SDK accepts it and shaped so it parses it,
then the batch's PROCESSED status update and its processing report."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sinch import SinchClient

from tests.e2e.processes import Client, Cluster, create_tenant
from tests.integration.webhook_kit import receiver

SECRET = "e2e-webhook-secret"
RECIPIENTS = 1000
TRIGGERS = ["MESSAGE_DELIVERY", "BATCH_STATUS_UPDATE", "BATCH_PROCESSING_REPORT"]
# What each class of recipient (index % 6) must produce, in order.
EXPECTED = {
    0: ["QUEUED_ON_CHANNEL", "DELIVERED", "READ"],  # identity ends 0000
    1: ["QUEUED_ON_CHANNEL", "FAILED"],  # ends 01: not reachable
    2: ["SWITCHING_CHANNEL", "QUEUED_ON_CHANNEL", "DELIVERED"],  # 02: WhatsApp refuses, SMS ok
    3: ["QUEUED_ON_CHANNEL", "DELIVERED"],  # 03: two retryable errors first
    4: ["QUEUED_ON_CHANNEL"],  # 04: stays queued on the channel
    5: ["FAILED"],  # a placeholder without a value
}
SUFFIX = {0: "0000", 1: "01", 2: "02", 3: "03", 4: "04", 5: "09"}


def recipient(i: int) -> dict[str, Any]:
    kind = i % 6
    identity = f"+46{i:06d}{SUFFIX[kind]}"
    channels = ["WHATSAPP", "SMS"] if kind == 2 else ["SMS"]
    entry: dict[str, Any] = {"recipient": {"identified_by": {"channel_identities": [
        {"channel": c, "identity": identity} for c in channels]}}}  # fmt: skip
    if kind != 5:
        entry["parameters"] = {"name": f"n{i}"}
    return entry


def expected_receipts() -> int:
    return sum(len(EXPECTED[i % 6]) for i in range(RECIPIENTS))


async def make_app(client: Client, target: str) -> str:
    base = f"/conversation/v1/projects/{client.tenant.project_id}"
    creds = {"claimed_identity": "x", "token": "y"}
    app = await client.http.post(f"{base}/apps", headers=client._auth, json={
        "display_name": "e2e", "channel_credentials": [
            {"channel": "SMS", "static_bearer": creds},
            {"channel": "WHATSAPP", "static_bearer": creds}]})  # fmt: skip
    assert app.status_code == 200, app.text
    app_id = str(app.json()["id"])
    hook = await client.http.post(f"{base}/webhooks", headers=client._auth, json={
        "app_id": app_id, "target": target, "target_type": "HTTP", "triggers": TRIGGERS,
        "secret": SECRET})  # fmt: skip
    assert hook.status_code == 200, hook.text
    return app_id


async def test_batch_receipts_reach_the_webhook_as_sinch_sends_them(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    tenant = create_tenant(db_url)
    async with receiver() as rx:
        with Cluster.running(db_url, tmp_path) as cluster:
            server = cluster.server(engine=True)
            async with Client(server.url, tenant) as client:
                app_id = await make_app(client, rx.url())
                batch_id = await client.send({
                    "app_id": app_id, "message": {"text_message": {"text": "Hi ${name}"}},
                    "recipient_and_params": [recipient(i) for i in range(RECIPIENTS)],
                    "batch_metadata": {"campaign": "e2e"},
                })  # fmt: skip
                deadline = time.monotonic() + 150
                wanted = expected_receipts() + 2 + 1  # receipts, READY and PROCESSED, report
                while len(rx.calls) < wanted:
                    assert time.monotonic() < deadline, f"only {len(rx.calls)} of {wanted} calls"
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1)  # anything beyond the expected calls would show up here
    check_calls(rx.calls, batch_id, app_id, wanted)


def check_calls(calls: list, batch_id: str, app_id: str, wanted: int) -> None:
    assert len(calls) == wanted
    sdk = SinchClient().conversation.sinch_events(SECRET)
    sequences: dict[int, list[str]] = {}
    statuses, reports = [], []
    for call in calls:
        assert sdk.validate_authentication_header(call.headers, call.body)
        event = sdk.parse_event(call.body, call.headers)
        body = json.loads(call.body)
        assert body["app_id"] == app_id
        report = getattr(event, "message_delivery_report", None)
        if report is not None:
            raw = body["message_delivery_report"]
            assert json.loads(report.metadata)["_batch_id"] == batch_id
            sequences.setdefault(raw["message_index"], []).append(report.status)
            if report.status == "FAILED":
                assert report.reason.code in ("RECIPIENT_NOT_REACHABLE", "BAD_REQUEST")
        elif "batch_status_update_notification" in body:
            statuses.append(body["batch_status_update_notification"]["batch_status"])
        else:
            reports.append(body["batch_processing_report_notification"])
    assert sequences == {i: EXPECTED[i % 6] for i in range(RECIPIENTS)}
    assert statuses == ["BATCH_STATUS_READY", "BATCH_STATUS_PROCESSED"]
    [report] = reports
    failed = sorted(f["message_index"] for f in report["failed_messages"])
    assert failed == [i for i in range(RECIPIENTS) if i % 6 in (1, 5)]
    assert report["counts"]["total"] == RECIPIENTS and report["counts"]["queued"] == 0
