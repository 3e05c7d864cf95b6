"""Wire shapes of the message read endpoints. ``batch_id``, ``message_index``, ``status``,
``delivery_status`` and ``reason`` are extensions that expose the engine's view (a single send's
carrier batch is not shown); ``message_status`` is the Conversation API's own field."""

from __future__ import annotations

from typing import Any, Literal

import msgspec


class MessageChannelIdentity(msgspec.Struct, kw_only=True):
    channel: str
    identity: str
    app_id: str


class MessageReason(msgspec.Struct, kw_only=True):
    code: str
    description: str


class MessageStatus(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where the message stands, under the name and shape the SDKs' message types read."""

    status: str
    event_time: str
    reason: str | None = None


class ConversationMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    direction: Literal["TO_CONTACT"]
    # The recipient's message with its placeholders filled in.
    app_message: dict[str, Any] | None = None
    # Known once the engine has chosen the channel.
    channel_identity: MessageChannelIdentity | None = None
    contact_id: str
    conversation_id: str
    metadata: str
    accept_time: str
    processing_mode: str
    injected: bool
    message_status: MessageStatus | None = None
    batch_id: str | None = None
    message_index: int | None = None
    status: str
    delivery_status: str | None = None
    reason: MessageReason | None = None


class MessageList(msgspec.Struct):
    messages: list[ConversationMessage]
    next_page_token: str
