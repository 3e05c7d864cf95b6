"""Turning a ledger row into the Conversation API's message object.

A batch row stores only the recipient entry; the message itself is the batch's template with
the recipient's parameters filled in, and its metadata is the batch's merged with the
recipient's plus ``_batch_id``, rendered by the same code the engine sends with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Row

from convbatch.batches.render import Template, merge_metadata
from convbatch.clock import to_rfc3339
from convbatch.conversation.messages.schemas import (
    ConversationMessage,
    MessageChannelIdentity,
    MessageReason,
    MessageStatus,
)

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class BatchContext:
    """What every message of one batch shares; built once per batch and page."""

    options: dict[str, Any]
    template: Template | None


def batch_context(raw_request: str | None) -> BatchContext:
    options = msgspec.json.decode(raw_request) if raw_request else {}
    message = options.get("message")
    return BatchContext(options, None if message is None else Template.compile(message))


def _batch_parts(row: Row, entry: dict[str, Any], batch: BatchContext) -> dict[str, Any]:
    options = batch.options
    app_message = None
    if batch.template is not None:
        rendered = batch.template.render(entry.get("parameters"), options.get("parameter_defaults"))
        # A recipient missing parameter values never got a message: show the template as is.
        app_message = options["message"] if isinstance(rendered, list) else rendered
    single = "single_message_metadata" in options
    if single:  # messages:send: the caller's metadata string as given, no _batch_id
        metadata = options["single_message_metadata"] or ""
    else:
        merged = merge_metadata(options.get("message_metadata"), entry.get("message_metadata"),
                                row.batch_id)  # fmt: skip
        metadata = _encode(merged).decode()
    return {
        "app_message": app_message,
        "metadata": metadata,
        "dispatch": options.get("processing_strategy") == "DISPATCH_ONLY",
        "recipient": entry.get("recipient") or {},
        "single": single,
    }


def _single_parts(payload: dict[str, Any]) -> dict[str, Any]:
    metadata = payload.get("message_metadata") or ""
    return {
        "app_message": payload.get("message"),
        "metadata": metadata if isinstance(metadata, str) else _encode(metadata).decode(),
        "dispatch": payload.get("processing_strategy") == "DISPATCH_ONLY",
        "recipient": payload.get("recipient") or {},
        "single": True,
    }


# Engine states as the Conversation API's message statuses, when no receipt says more.
_STATUS_OF_STATE = {
    "QUEUED": "QUEUED", "SCHEDULED": "QUEUED", "SENDING": "QUEUED",
    "SENT": "QUEUED_ON_CHANNEL", "FAILED": "FAILED", "EXPIRED": "FAILED",
}  # fmt: skip


def _message_status(row: Row) -> MessageStatus | None:
    status = row.delivery_status or _STATUS_OF_STATE.get(row.state)
    if status is None:  # cancelled: it never reached a channel and never will
        return None
    reason = row.reason_code if status == "FAILED" and row.reason_code else None
    event_time = _rfc3339(row.updated_at)
    return MessageStatus(status=status, event_time=event_time, reason=reason)


def _metadata(row: Row, computed: str) -> str:
    """What the engine stored when the message left the queue (the same text, or what an
    update set since); before that, what it will send."""
    stored = getattr(row, "stored_metadata", None)
    left_queue = row.state not in ("QUEUED", "SCHEDULED", "SENDING")
    return stored if left_queue and stored is not None else computed


def _rfc3339(ms: int) -> str:
    return to_rfc3339(datetime.fromtimestamp(ms / 1000, tz=UTC))


def message_view(row: Row, app_mode: str, batch: BatchContext | None) -> ConversationMessage:
    """``app_mode`` is the processing mode of the row's app, used unless the send asked for
    DISPATCH_ONLY; ``batch`` is the context of the row's batch (None for a single send)."""
    payload = msgspec.json.decode(row.payload)
    if row.batch_id is not None:
        parts = _batch_parts(row, payload, batch or batch_context(None))
    else:
        parts = _single_parts(payload)
    identity = None
    if row.channel and row.identity:
        identity = MessageChannelIdentity(
            channel=row.channel, identity=row.identity, app_id=row.app_id
        )
    reason = None
    if row.reason_code:
        reason = MessageReason(code=row.reason_code, description=row.reason_description or "")
    in_batch = row.batch_id is not None and not parts["single"]
    return ConversationMessage(
        id=row.id,
        direction="TO_CONTACT",
        app_message=parts["app_message"],
        channel_identity=identity,
        contact_id=parts["recipient"].get("contact_id") or "",
        conversation_id="",
        metadata=_metadata(row, parts["metadata"]),
        accept_time=_rfc3339(row.created_at),
        processing_mode="DISPATCH" if parts["dispatch"] else app_mode,
        injected=False,
        message_status=_message_status(row),
        batch_id=row.batch_id if in_batch else None,
        message_index=row.idx if in_batch else None,
        status=row.state,
        delivery_status=row.delivery_status,
        reason=reason,
    )
