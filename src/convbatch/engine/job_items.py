"""What one item of a contacts or consents batch does, and the callbacks it causes.

Each applier runs inside the caller's transaction and returns an ``Outcome``: whether the item
was applied, the result stored on the item, and the events to write with it. Failures that belong
to the item (bad data, unknown contact) come back as outcomes, never as exceptions, so the rest
of the chunk proceeds.

Event payloads (written only when a webhook subscribes):

* ``CONTACT_CREATE`` / ``CONTACT_DELETE``: ``contact_create_notification`` /
  ``contact_delete_notification`` ``{"contact": <Contact>}``. Contacts belong to the project, not
  to an app, so the envelope's ``app_id`` is empty and the outbox row's ``app_id`` is "" (the
  sender delivers such rows to every webhook of the project subscribed to the trigger).
* ``OPT_OUT``: ``opt_out_notification`` ``{"request_id": <batch id>, "contact_id": "",
  "channel": "", "identity": <identification>, "status": "OPT_OUT_SUCCEEDED",
  "list_type": <consent list>}``. The field names follow the Conversation API's opt-out
  notification; ``channel`` is empty because a consent record names no channel, and
  ``list_type`` is our addition so a receiver can tell the lists apart. Sent once per record
  that changed the list (re-inserting a present record is a no-op and says nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.callbacks import events as ev
from convbatch.callbacks.outbox import Event
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
    events: list[Event] = field(default_factory=list)


def failure(code: str, description: str) -> Outcome:
    return Outcome(False, {"reason": {"code": code, "description": description[:500]}})


@dataclass(slots=True)
class ItemContext:
    """What an applier needs besides the item: the time, and who listens to what."""

    now: datetime
    now_ms: int
    triggers: frozenset[str]  # of the project (contacts) or of the batch's app (consents)


def _contact_event(row: Row, trigger: str, key: str, contact: Contact, ctx: ItemContext) -> Event:
    note = {"contact": msgspec.to_builtins(contact)}
    payload = ev.envelope(row.project_id, "", key, note, ctx.now)
    return Event(row.project_id, "", trigger, payload, row.batch_id)


async def create_item(conn: AsyncConnection, row: Row, ctx: ItemContext) -> Outcome:
    try:
        request = _decode_contact(row.payload)
        contact = await create_contact(conn, row.project_id, request, ctx.now_ms)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return failure("BAD_REQUEST", str(exc))
    except InvalidArgument as exc:
        return failure("BAD_REQUEST", exc.message)
    outcome = Outcome(True, {"contact_id": contact.id})
    if "CONTACT_CREATE" in ctx.triggers:
        key = "contact_create_notification"
        outcome.events.append(_contact_event(row, "CONTACT_CREATE", key, contact, ctx))
    return outcome


async def delete_item(conn: AsyncConnection, row: Row, ctx: ItemContext) -> Outcome:
    try:
        contact_id = _decode_contact_id(row.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return failure("BAD_REQUEST", str(exc))
    contact = await delete_contact(conn, row.project_id, contact_id)
    if contact is None:
        return failure("CONTACT_NOT_FOUND", f"contact {contact_id} does not exist")
    outcome = Outcome(True, {"contact_id": contact.id})
    if "CONTACT_DELETE" in ctx.triggers:
        key = "contact_delete_notification"
        outcome.events.append(_contact_event(row, "CONTACT_DELETE", key, contact, ctx))
    return outcome


def _opt_out_event(row: Row, record: _ConsentItem, ctx: ItemContext) -> Event:
    note = {
        "request_id": row.batch_id,
        "contact_id": "",
        "channel": "",
        "identity": record.identification,
        "status": "OPT_OUT_SUCCEEDED",
        "list_type": record.consent_type,
    }
    payload = ev.envelope(row.project_id, row.app_id, "opt_out_notification", note, ctx.now)
    return Event(row.project_id, row.app_id, "OPT_OUT", payload, row.batch_id)


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
    outcome = Outcome(True, {"inserted": inserted})
    if inserted and "OPT_OUT" in ctx.triggers:
        outcome.events.append(_opt_out_event(row, record, ctx))
    return outcome


def lock_order_key(row: Row) -> tuple[str, str]:
    """Sort key for applying a chunk: the rows an item writes to come from its payload
    (a consent entry, a contact id), so applying every chunk in payload order makes two
    concurrent chunks take row locks in the same order and never deadlock on each other."""
    return (row.batch_type, row.payload)
