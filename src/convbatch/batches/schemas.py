"""Wire shapes of the Batch API's message endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from convbatch.limits import PropertyMap
from convbatch.schemas.app_message import AppMessage
from convbatch.schemas.common import ConversationChannel, Recipient, StringMap

ProcessingStrategy = Literal["DEFAULT", "DISPATCH_ONLY"]
MessageContentType = Literal["CONTENT_UNKNOWN", "CONTENT_MARKETING", "CONTENT_NOTIFICATION"]
BatchStatusName = Literal["READY", "SCHEDULED", "PROCESSED", "CANCELLED"]
MAX_RECIPIENTS = 1000


class RecipientAndParam(
    msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True, gc=False
):
    """One recipient of a batch with the values for its placeholders and its metadata."""

    recipient: Recipient
    parameters: StringMap | None = None
    message_metadata: StringMap | None = None
    conversation_metadata: StringMap | None = None


class BatchOptions(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Everything of a send request that applies to every recipient; stored on the batch."""

    message: AppMessage
    processing_strategy: ProcessingStrategy = "DEFAULT"
    message_metadata: StringMap | None = None
    conversation_metadata: StringMap | None = None
    callback_url: str | None = None
    channel_priority_order: list[ConversationChannel] | None = None
    ttl: str | None = None
    channel_properties: PropertyMap | None = None
    correlation_id: Annotated[str, Meta(max_length=128)] | None = None
    message_content_type: MessageContentType | None = None
    queue: Literal["NORMAL_PRIORITY", "HIGH_PRIORITY"] | None = None
    # Extension: values used when a recipient has no value for a placeholder.
    parameter_defaults: StringMap | None = None
    # Set only for single sends (messages:send, stored as a one-recipient batch): the caller's
    # metadata as given, sent without merging and without ``_batch_id``.
    single_message_metadata: str | None = None
    single_conversation_metadata: dict[str, Any] | None = None


class SendBatchRequest(BatchOptions, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    app_id: str
    recipient_and_params: Annotated[list[RecipientAndParam], Meta(max_length=MAX_RECIPIENTS)]
    batch_metadata: StringMap | None = None
    send_after: str | None = None
    # Internal to single sends: a batch request may not set them (anything but null is a 400).
    single_message_metadata: None = None
    single_conversation_metadata: None = None

    def options(self) -> BatchOptions:
        fields = {f: getattr(self, f) for f in BatchOptions.__struct_fields__}
        return BatchOptions(**fields)


class SendBatchResponse(msgspec.Struct, omit_defaults=True):
    batch_id: str
    send_after: str | None = None


class CancelBatchRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Accepts a single id, a list of ids, or a metadata key and value (snake or camel case)."""

    batch_id: str | None = None
    batch_ids: list[str] | None = None
    metadata_key: str | None = None
    metadata_value: str | None = None
    metadataKey: str | None = None
    metadataValue: str | None = None


class BatchCounts(msgspec.Struct):
    """Extension: where each recipient's message stands."""

    total: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int
    expired: int


class BatchStatus(msgspec.Struct, omit_defaults=True):
    batch_id: str
    meta_data: StringMap
    status: BatchStatusName
    send_after: str | None = None
    counts: BatchCounts | None = None
