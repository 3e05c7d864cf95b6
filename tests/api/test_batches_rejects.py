"""POST /messages: every bad input gets the error envelope naming the field, and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from convbatch.db.tables import batches, messages
from tests.api.builders import batch, recipients, sms
from tests.api.test_batches_send import count_rows

APP = "__APP__"


def with_(**fields: Any) -> dict[str, Any]:
    return batch(APP, 2, **fields)


def recipient_override(recipient: dict[str, Any]) -> dict[str, Any]:
    body = batch(APP, 2)
    body["recipient_and_params"][1]["recipient"] = recipient
    return body


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def without(field: str) -> dict[str, Any]:
    body = batch(APP, 2)
    del body[field]
    return body


CASES: dict[str, tuple[dict[str, Any], str]] = {
    "no recipients": (with_(recipient_and_params=[]), "recipient_and_params"),
    "1001 recipients": (with_(recipient_and_params=recipients(1001)), "recipient_and_params"),
    "two message types": (
        with_(message={"text_message": {"text": "a"}, "media_message": {"url": "https://x"}}),
        "message",
    ),
    "no message type": (with_(message={}), "message"),
    "unknown channel": (
        recipient_override(
            {"identified_by": {"channel_identities": [{"channel": "PIGEON", "identity": "1"}]}}
        ),
        "recipient_and_params[1].recipient.identified_by.channel_identities[0].channel",
    ),
    "both contact_id and identified_by": (
        recipient_override({"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR", **sms("+1")}),
        "recipient_and_params[1].recipient",
    ),
    "neither contact_id nor identified_by": (
        recipient_override({}),
        "recipient_and_params[1].recipient",
    ),
    "empty channel identities": (
        recipient_override({"identified_by": {"channel_identities": []}}),
        "recipient_and_params[1].recipient.identified_by.channel_identities",
    ),
    "empty identity": (
        recipient_override(
            {"identified_by": {"channel_identities": [{"channel": "SMS", "identity": ""}]}}
        ),
        "identity",
    ),
    "send_after unparseable": (with_(send_after="next tuesday"), "send_after"),
    "send_after without offset": (with_(send_after="2030-01-01T10:00:00"), "send_after"),
    "send_after 8 days ahead": (with_(send_after=in_days(8)), "send_after"),
    "bad ttl": (with_(ttl="10 minutes"), "ttl"),
    "ttl too short": (with_(ttl="2s"), "ttl"),
    "unknown app_id": (batch("01EQBDK8771J6A1FV8MQPE1XAR", 2), "app_id"),
    "missing app_id": (without("app_id"), "app_id"),
    "missing message": (without("message"), "message"),
    "missing recipient_and_params": (without("recipient_and_params"), "recipient_and_params"),
    "bad processing_strategy": (with_(processing_strategy="FAST"), "processing_strategy"),
    "metadata not a string map": (with_(batch_metadata={"a": 1}), "batch_metadata"),
    "wrong type for parameters": (
        with_(recipient_and_params=[{"recipient": sms("+1"), "parameters": ["x"]}]),
        "recipient_and_params[0].parameters",
    ),
    "eleven choices": (
        with_(message={"choice_message": {"choices": [{"text_message": {"text": "c"}}] * 11}}),
        "message.choice_message.choices",
    ),
    "media without url": (with_(message={"media_message": {}}), "message.media_message.url"),
    "unknown top-level field": (with_(surprise=True), "surprise"),
    "channel not on app": (with_(channel_priority_order=["TELEGRAM"]), "channel_priority_order[0]"),
    "bad callback_url": (with_(callback_url="ftp://x"), "callback_url"),
    "dispatch only with contact": (
        with_(processing_strategy="DISPATCH_ONLY",
              recipient_and_params=[{"recipient": {"contact_id": "01EQBDK8771J6A1FV8MQPE1XAR"}}]),
        "recipient_and_params[0].recipient",
    ),
    "correlation_id too long": (with_(correlation_id="x" * 129), "correlation_id"),
}  # fmt: skip


def _fill_app(value: Any, app_id: str) -> Any:
    if value == APP:
        return app_id
    if isinstance(value, dict):
        return {k: _fill_app(v, app_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_app(v, app_id) for v in value]
    return value


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_batch_is_rejected_and_nothing_written(api, case):
    body, field = CASES[case]
    reply = await api.post("/messages", _fill_app(body, api.tenant.app_id))
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert field in error["message"], error["message"]
    assert isinstance(error["details"], list)
    assert await count_rows(api, batches) == 0
    assert await count_rows(api, messages) == 0


async def test_another_projects_app_is_unknown(api):
    other, _token = await api.new_tenant()
    reply = await api.post("/messages", batch(other.app_id))
    assert reply.status_code == 400
    assert "app_id" in reply.json()["error"]["message"]
    assert await count_rows(api, batches) == 0
