"""Wire shapes of contacts."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from convbatch.schemas.common import (
    ChannelIdentity,
    ContactLanguage,
    ConversationChannel,
    StrictStruct,
)

MAX_METADATA = 1024
Identities = Annotated[list[ChannelIdentity], Meta(min_length=1)]
Metadata = Annotated[str, Meta(max_length=MAX_METADATA)]


class ContactIdentity(msgspec.Struct, kw_only=True):
    """A channel identity as answered: app_id is always present, empty when not app-scoped."""

    channel: ConversationChannel
    identity: str
    app_id: str = ""


class Contact(msgspec.Struct, kw_only=True):
    """Every field is always answered, with empty strings for unset ones, as Sinch does."""

    id: str
    channel_identities: list[ContactIdentity]
    channel_priority: list[ConversationChannel]
    display_name: str
    email: str
    external_id: str
    metadata: str
    language: ContactLanguage


class ContactCreateRequest(StrictStruct, kw_only=True):
    channel_identities: Identities
    language: ContactLanguage
    channel_priority: list[ConversationChannel] | None = None
    display_name: str | None = None
    email: str | None = None
    external_id: str | None = None
    metadata: Metadata | None = None


class ContactPatch(StrictStruct, kw_only=True):
    channel_identities: Identities | UnsetType | None = UNSET
    language: ContactLanguage | UnsetType | None = UNSET
    channel_priority: list[ConversationChannel] | UnsetType | None = UNSET
    display_name: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET
    external_id: str | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET


class ContactList(msgspec.Struct):
    contacts: list[Contact]
    next_page_token: str
    total_size: int
