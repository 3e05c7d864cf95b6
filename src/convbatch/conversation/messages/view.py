"""Turning a ledger row into the Conversation API's message object.

A batch row stores only the recipient entry; the message itself is the batch's template with
the recipient's parameters filled in, and its metadata is the batch's merged with the
recipient's plus ``_batch_id``, exactly as the engine sends it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Row

from convbatch.clock import to_rfc3339
from convbatch.conversation.messages.schemas import (
    ConversationMessage,
    MessageChannelIdentity,
    MessageReason,
)

_PLACEHOLDER = re.compile(r"\$\{([^{}]+)\}")
_encode = msgspec.json.Encoder().encode


def fill_placeholders(value: Any, params: dict[str, str]) -> Any:
    """Replace ${name} in every string value (never in keys). One pass, so a value that itself
    contains ${...} is not expanded again; unknown names are left as written."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: params.get(m[1], m[0]), value)
    if isinstance(value, dict):
        return {k: fill_placeholders(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(v, params) for v in value]
    return value


def _batch_parts(row: Row, entry: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    params = {**(options.get("parameter_defaults") or {}), **(entry.get("parameters") or {})}
    metadata = {**(options.get("message_metadata") or {}),
                **(entry.get("message_metadata") or {}), "_batch_id": row.batch_id}  # fmt: skip
    template = options.get("message")
    strategy = options.get("processing_strategy")
    return {
        "app_message": None if template is None else fill_placeholders(template, params),
        "metadata": _encode(metadata).decode(),
        "dispatch": strategy == "DISPATCH_ONLY",
        "recipient": entry.get("recipient") or {},
    }


def _single_parts(payload: dict[str, Any]) -> dict[str, Any]:
    metadata = payload.get("message_metadata") or ""
    return {
        "app_message": payload.get("message"),
        "metadata": metadata if isinstance(metadata, str) else _encode(metadata).decode(),
        "dispatch": payload.get("processing_strategy") == "DISPATCH_ONLY",
        "recipient": payload.get("recipient") or {},
    }


def message_view(row: Row, app_mode: str) -> ConversationMessage:
    """``app_mode`` is the processing mode of the row's app, used unless the send asked for
    DISPATCH_ONLY."""
    payload = msgspec.json.decode(row.payload)
    if row.batch_id is not None:
        options = msgspec.json.decode(row.batch_request) if row.batch_request else {}
        parts = _batch_parts(row, payload, options)
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
    return ConversationMessage(
        id=row.id,
        direction="TO_CONTACT",
        app_message=parts["app_message"],
        channel_identity=identity,
        contact_id=parts["recipient"].get("contact_id") or "",
        conversation_id="",
        metadata=parts["metadata"],
        accept_time=to_rfc3339(datetime.fromtimestamp(row.created_at / 1000, tz=UTC)),
        processing_mode="DISPATCH" if parts["dispatch"] else app_mode,
        injected=False,
        batch_id=row.batch_id,
        message_index=row.idx if row.batch_id is not None else None,
        status=row.state,
        delivery_status=row.delivery_status,
        reason=reason,
    )
