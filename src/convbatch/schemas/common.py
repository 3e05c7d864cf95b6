"""Wire types shared by several Batch API payloads: channels, recipients, enums."""

from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from convbatch.limits import BoundedMap, Identity

__all__ = [
    "CHANNELS",
    "CONTACT_LANGUAGES",
    "DELIVERY_STATUSES",
    "REASON_CODES",
    "REASON_SUB_CODES",
    "ChannelIdentity",
    "ChannelRecipientIdentity",
    "ContactLanguage",
    "ConversationChannel",
    "DeliveryStatus",
    "IdentifiedBy",
    "NonEmptyStr",
    "ReasonCode",
    "ReasonSubCode",
    "Recipient",
    "StrictStruct",
    "StringMap",
    "recipient_error",
]


class StrictStruct(
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
):
    """Base for request payload structs.

    Unknown keys are rejected so that typos surface as a 400 instead of being
    silently dropped; omit_defaults keeps re-encoded payloads identical in shape
    to what clients sent (no spurious ``null`` keys when forwarding).

    msgspec does not inherit ``kw_only``, so every subclass repeats it; keyword-only
    construction lets required fields follow optional ones in wire order.
    """


NonEmptyStr = Annotated[str, Meta(min_length=1)]

StringMap = BoundedMap  # parameters, metadata, channel properties: capped keys and values

# SINCH_CHAT appeared only on one outdated page and is deliberately left out.
ConversationChannel = Literal[
    "SMS",
    "RCS",
    "WHATSAPP",
    "MMS",
    "KAKAOTALK",
    "KAKAOTALKCHAT",
    "VIBERBM",
    "LINE",
    "INSTAGRAM",
    "MESSENGER",
    "WECHAT",
    "TELEGRAM",
    "APPLEBC",
]
CHANNELS: tuple[str, ...] = get_args(ConversationChannel)


class ChannelRecipientIdentity(StrictStruct, kw_only=True):
    """A recipient address on one channel."""

    channel: ConversationChannel
    identity: Identity


class ChannelIdentity(StrictStruct, kw_only=True):
    """A contact's address on one channel, as stored on contacts and in callbacks."""

    channel: ConversationChannel
    identity: Identity
    # Only needed for channels whose identities are scoped per app (e.g. Messenger).
    app_id: str | None = None


class IdentifiedBy(StrictStruct, kw_only=True):
    """Addressing by explicit channel identities; list order is the fallback order."""

    channel_identities: Annotated[list[ChannelRecipientIdentity], Meta(min_length=1)]


class Recipient(StrictStruct, kw_only=True):
    """A contact id or a set of channel identities; exactly one must be given.

    The wire format is a oneOf that msgspec cannot express on a single struct,
    so both keys are optional here and ``recipient_error`` enforces the rule.
    """

    contact_id: str | None = None
    identified_by: IdentifiedBy | None = None


def recipient_error(r: Recipient, path: str) -> str | None:
    """Return an error naming ``path`` unless exactly one addressing form is set."""
    given = (r.contact_id is not None) + (r.identified_by is not None)
    if given != 1:
        return f"{path}: exactly one of contact_id or identified_by is required"
    return None


ContactLanguage = Literal[
    "AF", "SQ", "AR", "AZ", "BN", "BG", "CA", "ZH", "ZH_CN", "ZH_HK", "ZH_TW", "HR", "CS",
    "DA", "NL", "EN", "EN_GB", "EN_US", "ET", "FIL", "FI", "FR", "DE", "EL", "GU", "HA",
    "HE", "HI", "HU", "ID", "GA", "IT", "JA", "KN", "KK", "KO", "LO", "LV", "LT", "MK",
    "MS", "ML", "MR", "NB", "FA", "PL", "PT", "PT_BR", "PT_PT", "PA", "RO", "RU", "SR",
    "SK", "SL", "ES", "ES_AR", "ES_ES", "ES_MX", "SW", "SV", "TA", "TE", "TH", "TR", "UK",
    "UR", "UZ", "VI", "ZU",
    # Not settable by clients, but callbacks report it for contacts without a language.
    "UNSPECIFIED",
]  # fmt: skip
CONTACT_LANGUAGES: tuple[str, ...] = get_args(ContactLanguage)

DeliveryStatus = Literal[
    "QUEUED_ON_CHANNEL",
    "DELIVERED",
    "READ",
    "FAILED",
    "SWITCHING_CHANNEL",
]
DELIVERY_STATUSES: tuple[str, ...] = get_args(DeliveryStatus)

ReasonCode = Literal[
    "UNKNOWN",
    "INTERNAL_ERROR",
    "RATE_LIMITED",
    "RECIPIENT_INVALID_CHANNEL_IDENTITY",
    "RECIPIENT_NOT_REACHABLE",
    "RECIPIENT_NOT_OPTED_IN",
    "OUTSIDE_ALLOWED_SENDING_WINDOW",
    "CHANNEL_FAILURE",
    "CHANNEL_BAD_CONFIGURATION",
    "CHANNEL_CONFIGURATION_MISSING",
    "MEDIA_TYPE_UNSUPPORTED",
    "MEDIA_TOO_LARGE",
    "MEDIA_NOT_REACHABLE",
    "NO_CHANNELS_LEFT",
    "TEMPLATE_NOT_FOUND",
    "TEMPLATE_INSUFFICIENT_PARAMETERS",
    "TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION",
    "DELIVERY_TIMED_OUT",
    "DELIVERY_REJECTED_DUE_TO_POLICY",
    "CONTACT_NOT_FOUND",
    "BAD_REQUEST",
    "UNKNOWN_APP",
    "NO_CHANNEL_IDENTITY_FOR_CONTACT",
    "CHANNEL_REJECT",
    "NO_PERMISSION",
    "NO_PROFILE_AVAILABLE",
    "UNSUPPORTED_OPERATION",
]
REASON_CODES: tuple[str, ...] = get_args(ReasonCode)

ReasonSubCode = Literal[
    "UNSPECIFIED_SUB_CODE",
    "ATTACHMENT_REJECTED",
    "MEDIA_TYPE_UNDETERMINED",
    "INACTIVE_SENDER",
]
REASON_SUB_CODES: tuple[str, ...] = get_args(ReasonSubCode)
