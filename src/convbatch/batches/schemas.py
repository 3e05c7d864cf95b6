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
MetadataUpdateStrategy = Literal["REPLACE", "MERGE_PATCH"]
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
    # Accepted and kept as the single send does; it matters only for conversation metadata.
    conversation_metadata_update_strategy: MetadataUpdateStrategy | None = None
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


class CancelBatchRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Names batches by id, by ids, or by a metadata key and value (snake or camel case)."""

    batch_id: str | None = None
    batch_ids: list[str] | None = None
    metadata_key: str | None = None
    metadata_value: str | None = None
    batchId: str | None = None
    batchIds: list[str] | None = None
    metadataKey: str | None = None
    metadataValue: str | None = None

    def named_ids(self) -> list[str]:
        singles = [one for one in (self.batch_id, self.batchId) if one]
        return [*singles, *(self.batch_ids or []), *(self.batchIds or [])]

    def named_metadata(self) -> tuple[str, str] | None:
        key = self.metadata_key or self.metadataKey
        value = self.metadata_value if self.metadata_value is not None else self.metadataValue
        return None if not key or value is None else (key, value)


_CANCEL_TEXT_FIELDS = ("batch_id", "batchId", "metadata_key", "metadataKey", "metadata_value",
                       "metadataValue")  # fmt: skip


def cancel_request_from(body: Any) -> CancelBatchRequest:
    """Read a cancel body leniently: the call always answers 200 (as the reference promises),
    so a name of the wrong type, or one we do not know, names nothing instead of failing."""
    if not isinstance(body, dict):
        return CancelBatchRequest()
    fields: dict[str, Any] = {
        name: body[name] for name in _CANCEL_TEXT_FIELDS if isinstance(body.get(name), str)
    }
    for name in ("batch_ids", "batchIds"):
        if isinstance(body.get(name), list):
            fields[name] = [one for one in body[name] if isinstance(one, str)]
    return CancelBatchRequest(**fields)


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
