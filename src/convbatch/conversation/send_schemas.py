"""Wire shapes of the Conversation API's single send, ``POST /messages:send``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from convbatch.batches.schemas import (
    MessageContentType,
    MetadataUpdateStrategy,
    ProcessingStrategy,
)
from convbatch.limits import PropertyMap
from convbatch.schemas.app_message import AppMessage
from convbatch.schemas.common import ConversationChannel, Recipient, StrictStruct

MAX_MESSAGE_METADATA = 1024
MAX_CONVERSATION_METADATA = 2048


class SendMessageRequest(StrictStruct, kw_only=True):
    app_id: str
    recipient: Recipient
    message: AppMessage
    callback_url: str | None = None
    channel_priority_order: list[ConversationChannel] | None = None
    channel_properties: PropertyMap | None = None
    # Unlike a batch's, a single send's message metadata is an opaque string.
    message_metadata: Annotated[str, Meta(max_length=MAX_MESSAGE_METADATA)] | None = None
    conversation_metadata: dict[str, Any] | None = None
    queue: Literal["NORMAL_PRIORITY", "HIGH_PRIORITY"] | None = None
    ttl: str | None = None
    processing_strategy: ProcessingStrategy = "DEFAULT"
    correlation_id: Annotated[str, Meta(max_length=128)] | None = None
    conversation_metadata_update_strategy: MetadataUpdateStrategy | None = None
    message_content_type: MessageContentType | None = None


class SendMessageResponse(msgspec.Struct):
    message_id: str
    accepted_time: str
