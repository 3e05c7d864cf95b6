"""Contact operations shared by the Conversation API endpoints and the engine's contacts jobs.
Functions take the caller's connection and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.api.paging import decode_token, encode_token
from convbatch.api.patch import apply_changes, requested_changes
from convbatch.contacts import repository as repo
from convbatch.contacts.schemas import (
    MAX_METADATA,
    Contact,
    ContactIdentity,
    ContactList,
    ContactPatch,
)
from convbatch.errors import InvalidArgument, NotFound
from convbatch.ids import new_ulid
from convbatch.schemas.common import ChannelIdentity

UPDATABLE = tuple(ContactPatch.__struct_fields__)
DEFAULT_DISPLAY_NAME = "Unknown"
# Identities on these channels only mean something within one app.
APP_SCOPED_CHANNELS = frozenset({"MESSENGER", "INSTAGRAM", "LINE", "WECHAT"})


def _reset_values() -> dict[str, object]:
    """What each optional field becomes when a PATCH clears it."""
    return {"channel_priority": [], "display_name": DEFAULT_DISPLAY_NAME, "email": "",
            "external_id": "", "metadata": ""}  # fmt: skip


class ContactFields(Protocol):
    """What a create request carries; both the Conversation API's and the Batch API's
    request types fit."""

    @property
    def channel_identities(self) -> Sequence[ChannelIdentity]: ...
    @property
    def language(self) -> str: ...
    @property
    def channel_priority(self) -> Sequence[str] | None: ...
    @property
    def display_name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def metadata(self) -> str | None: ...


def _identities(given: Sequence[ChannelIdentity]) -> list[ContactIdentity]:
    if not given:
        raise InvalidArgument.field("channel_identities", "at least one is required")
    result = []
    for index, ci in enumerate(given):
        if ci.channel in APP_SCOPED_CHANNELS and not ci.app_id:
            raise InvalidArgument.field(
                f"channel_identities[{index}].app_id", f"required for channel {ci.channel}"
            )
        result.append(
            ContactIdentity(channel=ci.channel, identity=ci.identity, app_id=ci.app_id or "")
        )
    return result


def _check(contact: Contact) -> None:
    if contact.language == "UNSPECIFIED":
        raise InvalidArgument.field("language", "UNSPECIFIED cannot be set; name a language")
    if len(contact.metadata) > MAX_METADATA:
        raise InvalidArgument.field("metadata", f"longer than {MAX_METADATA} characters")


async def create_contact(
    conn: AsyncConnection, project_id: str, req: ContactFields, now_ms: int
) -> Contact:
    """Validate and store a new contact; raises InvalidArgument naming the bad field."""
    contact = Contact(
        id=new_ulid(now_ms),
        channel_identities=_identities(req.channel_identities),
        channel_priority=list(req.channel_priority or []),  # type: ignore[arg-type]
        display_name=req.display_name or DEFAULT_DISPLAY_NAME,
        email=req.email or "",
        external_id=req.external_id or "",
        metadata=req.metadata or "",
        language=req.language,  # type: ignore[arg-type]
    )
    _check(contact)
    await repo.insert_contact(conn, project_id, contact, now_ms)
    return contact


async def find_contact(conn: AsyncConnection, project_id: str, contact_id: str) -> Contact | None:
    return await repo.get_contact(conn, project_id, contact_id)


async def require_contact(conn: AsyncConnection, project_id: str, contact_id: str) -> Contact:
    contact = await repo.get_contact(conn, project_id, contact_id)
    if contact is None:
        raise NotFound(f"Contact {contact_id} not found")
    return contact


async def update_contact(
    conn: AsyncConnection,
    project_id: str,
    contact_id: str,
    patch: ContactPatch,
    mask: list[str] | None,
) -> Contact:
    contact = await require_contact(conn, project_id, contact_id)
    changes = requested_changes(patch, mask)
    if changes.get("channel_identities") is not None:
        changes["channel_identities"] = _identities(changes["channel_identities"])
    if changes.get("display_name") == "":
        changes["display_name"] = None
    updated = apply_changes(
        contact, changes, required=("channel_identities", "language"), defaults=_reset_values()
    )
    _check(updated)
    await repo.replace_contact(conn, project_id, updated)
    return updated


async def delete_contact(conn: AsyncConnection, project_id: str, contact_id: str) -> Contact | None:
    """Delete the contact; returns it (for the CONTACT_DELETE event), or None if it was not
    there."""
    return await repo.delete_contact_row(conn, project_id, contact_id)


async def list_page(
    conn: AsyncConnection,
    project_id: str,
    size: int,
    token: str | None,
    filters: dict[str, str | None],
) -> ContactList:
    """One page of the matching contacts, in id order, and the token of the next page."""
    after = decode_token(token, "contacts", 1)
    found = await repo.list_contacts(
        conn,
        project_id,
        after_id=None if after is None else str(after[0]),
        limit=size + 1,
        **filters,
    )
    next_token = encode_token("contacts", [found[size - 1].id]) if len(found) > size else ""
    total = await repo.count_contacts(conn, project_id, **filters)
    return ContactList(found[:size], next_token, total)
