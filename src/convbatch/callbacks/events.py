"""Callback payloads, shaped as the Conversation API sends them: a common envelope plus exactly
one event key. Builders return plain dicts; the outbox stores them encoded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from convbatch.clock import to_rfc3339

UNSPECIFIED_SUB_CODE = "UNSPECIFIED_SUB_CODE"


def envelope(
    project_id: str, app_id: str, key: str, event: dict[str, Any], now: datetime,
    correlation_id: str = "", event_time: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    stamp = to_rfc3339(now)
    return {
        "app_id": app_id,
        "accepted_time": stamp,
        "event_time": to_rfc3339(event_time) if event_time else stamp,
        "project_id": project_id,
        key: event,
        "message_metadata": "",
        "correlation_id": correlation_id,
    }


def channel_identity(channel: str | None, identity: str | None, app_id: str) -> dict[str, str]:
    return {
        "channel": channel or "CHANNEL_UNSPECIFIED",
        "identity": identity or "",
        "app_id": app_id,
    }


def delivery_report(
    *, message_id: str, status: str, channel: str | None, identity: str | None, app_id: str,
    contact_id: str | None, metadata: str, processing_mode: str, batch_id: str | None,
    message_index: int | None, reason_code: str | None = None, description: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    report: dict[str, Any] = {
        "message_id": message_id,
        "conversation_id": "",
        "status": status,
        "channel_identity": channel_identity(channel, identity, app_id),
        "contact_id": contact_id or "",
        "metadata": metadata,
        "processing_mode": processing_mode,
    }
    if reason_code:
        report["reason"] = {
            "code": reason_code,
            "description": description or "",
            "sub_code": UNSPECIFIED_SUB_CODE,
        }
    if batch_id is not None:
        # Extension: lets a receiver map a receipt to the batch entry without parsing metadata.
        report["batch_id"] = batch_id
        report["message_index"] = message_index
    return report


def submit_notification(
    *, message_id: str, channel: str, identity: str, app_id: str, contact_id: str | None,
    message: dict[str, Any], metadata: str, processing_mode: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "message_id": message_id,
        "conversation_id": "",
        "channel_identity": channel_identity(channel, identity, app_id),
        "contact_id": contact_id or "",
        "submitted_message": message,
        "metadata": metadata,
        "processing_mode": processing_mode,
    }


def batch_status_update(
    *, batch_id: str, status: str, batch_type: str, send_after: datetime | None,
    batch_metadata: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    data: dict[str, Any] = {"batch_metadata": batch_metadata}
    if send_after is not None:
        data["send_after"] = to_rfc3339(send_after)
    return {
        "batch_id": batch_id,
        "batch_status": f"BATCH_STATUS_{status}",
        "batch_type": f"BATCH_TYPE_{batch_type}",
        "additional_data": {"message_batch_data": data},
    }


def processing_report(
    *, batch_id: str, batch_type: str, counts: dict[str, int], failed: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "batch_type": f"BATCH_TYPE_{batch_type}",
        "counts": counts,
        "failed_messages": failed,
    }


def opt_out_notification(*, request_id: str, identity: str, list_type: str) -> dict[str, Any]:
    """Shaped as the Conversation API's opt-out notification. ``channel`` is empty: a consent
    record names no channel; ``list_type`` (ours) tells the consent lists apart."""
    return {
        "request_id": request_id,
        "contact_id": "",
        "channel": "",
        "identity": identity,
        "status": "OPT_OUT_SUCCEEDED",
        "list_type": list_type,
    }
