"""Wire shapes of apps. An app lists its channels; each channel names the driver that sends
its messages (an extension: ``driver``, ``driver_settings``, ``rate_limit``)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from convbatch.schemas.common import ConversationChannel

DriverName = Literal["sandbox", "conversation_api", "http"]
ProcessingMode = Literal["CONVERSATION", "DISPATCH"]


class ChannelCredential(msgspec.Struct, kw_only=True, omit_defaults=True):
    channel: ConversationChannel
    # Sinch's per-channel credential objects (static_bearer, static_token, ...) are kept as sent.
    static_bearer: dict[str, Any] | None = None
    static_token: dict[str, Any] | None = None
    mms_credentials: dict[str, Any] | None = None
    callback_secret: str | None = None
    credential_ordinal_number: int | None = None
    state: dict[str, Any] | None = None
    channel_known_id: str | None = None
    driver: DriverName = "sandbox"
    driver_settings: dict[str, Any] = msgspec.field(default_factory=dict)
    # Messages per second for this channel across all workers; None means unlimited.
    rate_limit: float | None = None


class CallbackSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    secret_for_overridden_callback_urls: str | None = None


class App(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    display_name: str = ""
    channel_credentials: list[ChannelCredential] = msgspec.field(default_factory=list)
    processing_mode: ProcessingMode = "CONVERSATION"
    conversation_metadata_report_view: str = "NONE"
    rate_limits: dict[str, Any] = msgspec.field(default_factory=dict)
    retention_policy: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"retention_type": "MESSAGE_EXPIRE_POLICY", "ttl_days": 180}
    )
    dispatch_retention_policy: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"retention_type": "MESSAGE_EXPIRE_POLICY", "ttl_days": 0}
    )
    callback_settings: CallbackSettings = msgspec.field(default_factory=CallbackSettings)
    message_retry_settings: dict[str, Any] | None = None
    delivery_report_based_fallback: dict[str, Any] | None = None
    message_search: dict[str, Any] | None = None
    smart_conversation: dict[str, Any] | None = None
    persist_message_status: dict[str, Any] | None = None

    def channels(self) -> list[str]:
        return [c.channel for c in self.channel_credentials]
