"""Wire shapes of the Batch API's contacts and consents endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from convbatch.schemas.common import (
    ChannelIdentity,
    ContactLanguage,
    ConversationChannel,
    NonEmptyStr,
    StrictStruct,
)

MAX_ITEMS = 1000
ConsentType = Literal["OPT_OUT_ALL", "OPT_OUT_NOTIFICATION", "OPT_OUT_MARKETING"]


class ContactCreateRequest(StrictStruct, kw_only=True):
    channel_identities: Annotated[list[ChannelIdentity], Meta(min_length=1)]
    language: ContactLanguage
    channel_priority: list[ConversationChannel] | None = None
    display_name: str | None = None
    email: str | None = None
    external_id: str | None = None
    metadata: Annotated[str, Meta(max_length=1024)] | None = None


class CreateContactsRequest(StrictStruct, kw_only=True):
    contacts: Annotated[list[ContactCreateRequest], Meta(min_length=1, max_length=MAX_ITEMS)]


class DeleteContactsRequest(StrictStruct, kw_only=True):
    contact_ids: Annotated[list[NonEmptyStr], Meta(min_length=1, max_length=MAX_ITEMS)]


class ConsentRecord(StrictStruct, kw_only=True):
    identification: NonEmptyStr
    consent_type: ConsentType = "OPT_OUT_ALL"


class InsertConsentsRequest(StrictStruct, kw_only=True):
    app_id: NonEmptyStr
    consent_records: Annotated[list[ConsentRecord], Meta(min_length=1, max_length=MAX_ITEMS)]


class JobAccepted(msgspec.Struct):
    """Answer to a contacts or consents batch. Sinch documents no body for contacts; the
    batch_id is an additive extension that lets callers follow the job."""

    batch_id: str
