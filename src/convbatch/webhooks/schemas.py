"""Wire shapes of webhooks."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

import msgspec
from msgspec import UNSET, Meta, UnsetType

from convbatch.schemas.common import NonEmptyStr, StrictStruct
from convbatch.secrets.sealing import reveal

MAX_TARGET_LENGTH = 742
MAX_WEBHOOKS_PER_APP = 5

WebhookTrigger = Literal[
    "MESSAGE_DELIVERY",
    "MESSAGE_SUBMIT",
    "EVENT_DELIVERY",
    "MESSAGE_INBOUND",
    "EVENT_INBOUND",
    "CONVERSATION_START",
    "CONVERSATION_STOP",
    "CONVERSATION_DELETE",
    "CONTACT_CREATE",
    "CONTACT_DELETE",
    "CONTACT_MERGE",
    "CONTACT_UPDATE",
    "CONTACT_IDENTITIES_DUPLICATION",
    "UNSUPPORTED",
    "OPT_IN",
    "OPT_OUT",
    "CAPABILITY",
    "CHANNEL_EVENT",
    "SMART_CONVERSATION",
    "MESSAGE_INBOUND_SMART_CONVERSATION_REDACTION",
    "RECORD_NOTIFICATION",
    "BATCH_STATUS_UPDATE",
    "BATCH_PROCESSING_REPORT",
]
WEBHOOK_TRIGGERS: tuple[str, ...] = get_args(WebhookTrigger)
TargetType = Literal["DISMISS", "HTTP"]
Target = Annotated[str, Meta(min_length=1, max_length=MAX_TARGET_LENGTH)]
Triggers = Annotated[list[WebhookTrigger], Meta(min_length=1)]


class ClientCredentials(StrictStruct, kw_only=True):
    """OAuth2 client credentials the server uses to get a token for the webhook's target."""

    client_id: NonEmptyStr
    client_secret: NonEmptyStr
    endpoint: NonEmptyStr
    scope: Annotated[str, Meta(max_length=1024)] | None = None
    response_type: Annotated[str, Meta(max_length=64)] | None = None
    token_request_type: Literal["BASIC", "FORM"] | None = None

    def __post_init__(self) -> None:
        reveal(self, ("client_secret",))


class Webhook(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    app_id: str
    target: str
    target_type: TargetType
    triggers: list[WebhookTrigger]
    secret: str
    client_credentials: ClientCredentials | None = None

    def __post_init__(self) -> None:
        # Stored sealed (see secrets/); every reader, the sender included, gets it open.
        reveal(self, ("secret",))


class WebhookCreateRequest(StrictStruct, kw_only=True):
    app_id: NonEmptyStr
    target: Target
    # Optional (only the target is required): a webhook without triggers gets no callbacks.
    triggers: Triggers | None = None
    target_type: TargetType | None = None
    secret: str | None = None
    client_credentials: ClientCredentials | None = None
    id: str | None = None  # ignored: the server picks ids


class WebhookPatch(StrictStruct, kw_only=True):
    app_id: NonEmptyStr | UnsetType | None = UNSET
    target: Target | UnsetType | None = UNSET
    triggers: Triggers | UnsetType | None = UNSET
    target_type: TargetType | UnsetType | None = UNSET
    secret: str | UnsetType | None = UNSET
    client_credentials: ClientCredentials | UnsetType | None = UNSET


class WebhookList(msgspec.Struct):
    webhooks: list[Webhook]
