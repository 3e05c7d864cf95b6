"""What one item of a contacts or consents batch does, and the callbacks it causes.

Each applier runs inside the caller's transaction and returns an ``Outcome``: whether the item
was applied and the result stored on the item (its events go to the chunk's outbox). Failures
that belong to the item (bad data, unknown contact) come back as outcomes, never as exceptions,
so the rest of the chunk proceeds.

Events go through the chunk's outbox (``callbacks/outbox.py`` builds them, and writes them
only when a webhook subscribes): ``CONTACT_CREATE`` / ``CONTACT_DELETE`` are project-wide
(contacts belong to the project, not to an app); ``OPT_OUT`` is sent once per record that
changed the list (re-inserting a present record is a no-op and says nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks.outbox import Outbox
from convbatch.consents.service import insert_consent
from convbatch.contacts.schemas import Contact
from convbatch.contacts.service import create_contact, delete_contact
from convbatch.errors import InvalidArgument
from convbatch.jobs.schemas import ConsentType, ContactCreateRequest

_decode_contact = msgspec.json.Decoder(ContactCreateRequest).decode
_decode_contact_id = msgspec.json.Decoder(str).decode


class _ConsentItem(msgspec.Struct):
    identification: str
    consent_type: ConsentType = "OPT_OUT_ALL"


_decode_consent = msgspec.json.Decoder(_ConsentItem).decode


@dataclass(slots=True)
class Outcome:
    applied: bool
    result: dict[str, Any]


def failure(code: str, description: str) -> Outcome:
    return Outcome(False, {"reason": {"code": code, "description": description[:500]}})


@dataclass(slots=True)
class ItemContext:
    """What an applier needs besides the item: the time, and the chunk's outbox."""

    now: datetime
    now_ms: int
    outbox: Outbox


def _contact_event(row: Row, trigger: str, contact: Contact, ctx: ItemContext) -> None:
    ctx.outbox.contact_changed(trigger, row.project_id, row.batch_id,
                               msgspec.to_builtins(contact))  # fmt: skip


async def create_item(conn: AsyncConnection, row: Row, ctx: ItemContext) -> Outcome:
    try:
        request = _decode_contact(row.payload)
        contact = await create_contact(conn, row.project_id, request, ctx.now_ms)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return failure("BAD_REQUEST", str(exc))
    except InvalidArgument as exc:
        return failure("BAD_REQUEST", exc.message)
    _contact_event(row, "CONTACT_CREATE", contact, ctx)
    return Outcome(True, {"contact_id": contact.id})


async def delete_item(conn: AsyncConnection, row: Row, ctx: ItemContext) -> Outcome:
    try:
        contact_id = _decode_contact_id(row.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return failure("BAD_REQUEST", str(exc))
    contact = await delete_contact(conn, row.project_id, contact_id)
    if contact is None:
        return failure("CONTACT_NOT_FOUND", f"contact {contact_id} does not exist")
    _contact_event(row, "CONTACT_DELETE", contact, ctx)
    return Outcome(True, {"contact_id": contact.id})


async def consent_item(conn: AsyncConnection, row: Row, ctx: ItemContext) -> Outcome:
    try:
        record = _decode_consent(row.payload)
        inserted = await insert_consent(
            conn, row.project_id, row.app_id, record.identification, record.consent_type,
            ctx.now_ms, origin="ORIGIN_API",
        )  # fmt: skip
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return failure("BAD_REQUEST", str(exc))
    except InvalidArgument as exc:
        return failure("BAD_REQUEST", exc.message)
    if inserted:
        ctx.outbox.opted_out(row.project_id, row.app_id, row.batch_id, record.identification,
                             record.consent_type)  # fmt: skip
    return Outcome(True, {"inserted": inserted})


def lock_order_key(row: Row) -> tuple[str, str]:
    """Sort key for applying a chunk: the rows an item writes to come from its payload
    (a consent entry, a contact id), so applying every chunk in payload order makes two
    concurrent chunks take row locks in the same order and never deadlock on each other."""
    return (row.batch_type, row.payload)
