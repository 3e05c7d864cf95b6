"""Wire shapes of apps. An app lists its channels; each channel names the driver that sends
its messages (an extension: ``driver``, ``driver_settings``, ``rate_limit``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from convbatch.schemas.common import ConversationChannel, NonEmptyStr, StrictStruct
from convbatch.secrets.fields import CREDENTIAL_SECRETS
from convbatch.secrets.sealing import reveal

DriverName = Literal["sandbox", "conversation_api", "http"]
DeliveryGuarantee = Literal["at_least_once", "at_most_once"]
ProcessingMode = Literal["CONVERSATION", "DISPATCH"]
MetadataReportView = Literal["NONE", "FULL"]
Settings = dict[str, Any]


class ChannelCredential(
    msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    channel: ConversationChannel
    # Sinch's per-channel credential objects are kept as sent; only the driver reads them.
    static_bearer: Settings | None = None
    static_token: Settings | None = None
    mms_credentials: Settings | None = None
    instagram_credentials: Settings | None = None
    telegram_credentials: Settings | None = None
    kakaotalk_credentials: Settings | None = None
    kakaotalkchat_credentials: Settings | None = None
    wechat_credentials: Settings | None = None
    applebc_credentials: Settings | None = None
    line_credentials: Settings | None = None
    line_enterprise_credentials: Settings | None = None
    callback_secret: str | None = None
    credential_ordinal_number: int | None = None
    # Set by the server; accepted on input so a fetched app can be sent back unchanged.
    state: Settings | None = None
    channel_known_id: str | None = None
    driver: DriverName = "sandbox"
    driver_settings: Settings = msgspec.field(default_factory=dict)
    # Messages per second for this channel across all workers; None means unlimited.
    rate_limit: Annotated[float, Meta(gt=0)] | None = None
    # Extension: whether a message may be sent again after a crash (see the README's engine).
    delivery_guarantee: DeliveryGuarantee = "at_least_once"

    def __post_init__(self) -> None:
        # Secrets are stored sealed (secrets/fields.py says which); every reader gets them open.
        reveal(self, _CREDENTIAL_HOLDERS)


class CallbackSettings(msgspec.Struct, kw_only=True, omit_defaults=True):
    secret_for_overridden_callback_urls: str | None = None

    def __post_init__(self) -> None:
        reveal(self, ("secret_for_overridden_callback_urls",))


_CREDENTIAL_HOLDERS = (*CREDENTIAL_SECRETS, "callback_secret", "driver_settings")


class App(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    display_name: str = ""
    channel_credentials: list[ChannelCredential] = msgspec.field(default_factory=list)
    processing_mode: ProcessingMode = "CONVERSATION"
    conversation_metadata_report_view: str = "NONE"
    rate_limits: Settings = msgspec.field(default_factory=dict)
    retention_policy: Settings = msgspec.field(
        default_factory=lambda: {"retention_type": "MESSAGE_EXPIRE_POLICY", "ttl_days": 180}
    )
    dispatch_retention_policy: Settings = msgspec.field(
        default_factory=lambda: {"retention_type": "MESSAGE_EXPIRE_POLICY", "ttl_days": 0}
    )
    callback_settings: CallbackSettings = msgspec.field(default_factory=CallbackSettings)
    message_retry_settings: Settings | None = None
    delivery_report_based_fallback: Settings | None = None
    message_search: Settings | None = None
    smart_conversation: Settings | None = None
    persist_message_status: Settings | None = None

    def channels(self) -> list[str]:
        return [c.channel for c in self.channel_credentials]

    def credential(self, channel: str) -> ChannelCredential | None:
        """The channel's configuration (the lowest ordinal number when there are several)."""
        found = [c for c in self.channel_credentials if c.channel == channel]
        found.sort(key=lambda c: c.credential_ordinal_number or 0)
        return found[0] if found else None


class AppCreateRequest(StrictStruct, kw_only=True):
    display_name: NonEmptyStr
    channel_credentials: list[ChannelCredential] | None = None
    processing_mode: ProcessingMode | None = None
    conversation_metadata_report_view: MetadataReportView | None = None
    rate_limits: Settings | None = None
    retention_policy: Settings | None = None
    dispatch_retention_policy: Settings | None = None
    callback_settings: CallbackSettings | None = None
    message_retry_settings: Settings | None = None
    delivery_report_based_fallback: Settings | None = None
    message_search: Settings | None = None
    smart_conversation: Settings | None = None
    persist_message_status: Settings | None = None


class AppPatch(StrictStruct, kw_only=True):
    """Fields a PATCH may change; a field left out is untouched unless the mask names it."""

    display_name: NonEmptyStr | UnsetType | None = UNSET
    channel_credentials: list[ChannelCredential] | UnsetType | None = UNSET
    processing_mode: ProcessingMode | UnsetType | None = UNSET
    conversation_metadata_report_view: MetadataReportView | UnsetType | None = UNSET
    rate_limits: Settings | UnsetType | None = UNSET
    retention_policy: Settings | UnsetType | None = UNSET
    dispatch_retention_policy: Settings | UnsetType | None = UNSET
    callback_settings: CallbackSettings | UnsetType | None = UNSET
    message_retry_settings: Settings | UnsetType | None = UNSET
    delivery_report_based_fallback: Settings | UnsetType | None = UNSET
    message_search: Settings | UnsetType | None = UNSET
    smart_conversation: Settings | UnsetType | None = UNSET
    persist_message_status: Settings | UnsetType | None = UNSET


class ChannelCredentialView(ChannelCredential, kw_only=True, omit_defaults=True):
    """A channel credential as answered: the driver fields are always shown."""

    driver: DriverName
    driver_settings: Settings


class AppView(App, kw_only=True, omit_defaults=True):
    """An app as answered: the settings Sinch always returns are never left out."""

    display_name: str
    channel_credentials: list[ChannelCredentialView]  # type: ignore[assignment]
    processing_mode: ProcessingMode
    conversation_metadata_report_view: str
    rate_limits: Settings
    callback_settings: CallbackSettings


class AppList(msgspec.Struct):
    # No next_page_token: the SDK's paginator would loop on a non-empty one.
    apps: list[AppView]
