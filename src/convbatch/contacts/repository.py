"""Storage of contacts. The Contact document is stored whole; its channel identities are also
written to contact_identities, the lookup used to find contacts by address."""

from __future__ import annotations

import msgspec
from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.contacts.schemas import Contact
from convbatch.db.tables import contact_identities, contacts

_decoder = msgspec.json.Decoder(Contact)


def _encode(contact: Contact) -> str:
    return msgspec.json.encode(contact).decode()


async def _write_identities(conn: AsyncConnection, project_id: str, contact: Contact) -> None:
    rows = [
        {"contact_id": contact.id, "project_id": project_id,
         "channel": ci.channel, "identity": ci.identity}
        for ci in contact.channel_identities
    ]  # fmt: skip
    await conn.execute(insert(contact_identities), rows)


async def insert_contact(
    conn: AsyncConnection, project_id: str, contact: Contact, now_ms: int
) -> None:
    await conn.execute(
        insert(contacts).values(
            id=contact.id,
            project_id=project_id,
            doc=_encode(contact),
            external_id=contact.external_id or None,
            created_at=now_ms,
        )
    )
    await _write_identities(conn, project_id, contact)


async def get_contact(conn: AsyncConnection, project_id: str, contact_id: str) -> Contact | None:
    query = select(contacts.c.doc).where(
        contacts.c.id == contact_id, contacts.c.project_id == project_id
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _decoder.decode(row.doc)


async def replace_contact(conn: AsyncConnection, project_id: str, contact: Contact) -> None:
    await conn.execute(
        update(contacts)
        .where(contacts.c.id == contact.id, contacts.c.project_id == project_id)
        .values(doc=_encode(contact), external_id=contact.external_id or None)
    )
    await conn.execute(
        delete(contact_identities).where(contact_identities.c.contact_id == contact.id)
    )
    await _write_identities(conn, project_id, contact)


async def delete_contact_row(
    conn: AsyncConnection, project_id: str, contact_id: str
) -> Contact | None:
    """Delete the contact and its identities; returns what was deleted."""
    result = await conn.execute(
        delete(contacts)
        .where(contacts.c.id == contact_id, contacts.c.project_id == project_id)
        .returning(contacts.c.doc)
    )
    row = result.first()
    if row is None:
        return None
    await conn.execute(
        delete(contact_identities).where(contact_identities.c.contact_id == contact_id)
    )
    return _decoder.decode(row.doc)


def _matching(
    query: Select,
    project_id: str,
    external_id: str | None,
    channel: str | None,
    identity: str | None,
) -> Select:
    query = query.where(contacts.c.project_id == project_id)
    if external_id is not None:
        query = query.where(contacts.c.external_id == external_id)
    if channel is not None and identity is not None:
        carriers = select(contact_identities.c.contact_id).where(
            contact_identities.c.project_id == project_id,
            contact_identities.c.channel == channel,
            contact_identities.c.identity == identity,
        )
        query = query.where(contacts.c.id.in_(carriers))
    return query


async def list_contacts(
    conn: AsyncConnection,
    project_id: str,
    *,
    after_id: str | None,
    limit: int,
    external_id: str | None = None,
    channel: str | None = None,
    identity: str | None = None,
) -> list[Contact]:
    """Up to ``limit`` matching contacts in id order, starting after ``after_id``."""
    query = _matching(select(contacts.c.doc), project_id, external_id, channel, identity)
    if after_id is not None:
        query = query.where(contacts.c.id > after_id)
    rows = await conn.execute(query.order_by(contacts.c.id).limit(limit))
    return [_decoder.decode(row.doc) for row in rows]


async def count_contacts(
    conn: AsyncConnection,
    project_id: str,
    *,
    external_id: str | None = None,
    channel: str | None = None,
    identity: str | None = None,
) -> int:
    query = _matching(
        select(func.count()).select_from(contacts), project_id, external_id, channel, identity
    )
    return int((await conn.execute(query)).scalar_one())


async def contact_ids_by_identity(
    conn: AsyncConnection, project_id: str, channel: str, identity: str
) -> list[str]:
    """Ids of the project's contacts that carry this channel identity, oldest first."""
    query = (
        select(contact_identities.c.contact_id)
        .where(
            contact_identities.c.project_id == project_id,
            contact_identities.c.channel == channel,
            contact_identities.c.identity == identity,
        )
        .order_by(contact_identities.c.contact_id)
        .distinct()
    )
    return [row.contact_id for row in await conn.execute(query)]


async def shared_identities(
    conn: AsyncConnection, project_id: str, after: str | None, limit: int
) -> list[tuple[str, str, str]]:
    """(identity, channel, contact id) of the identities that more than one of the project's
    contacts carry, by identity, for the first ``limit`` such identities after ``after``."""
    ci = contact_identities.c
    shared = (
        select(ci.identity)
        .where(ci.project_id == project_id, *([] if after is None else [ci.identity > after]))
        .group_by(ci.identity)
        .having(func.count(ci.contact_id.distinct()) > 1)
        .order_by(ci.identity)
        .limit(limit)
        .subquery()
    )
    query = (
        select(ci.identity, ci.channel, ci.contact_id)
        .where(ci.project_id == project_id, ci.identity.in_(select(shared.c.identity)))
        .order_by(ci.identity, ci.channel, ci.contact_id)
        .distinct()
    )
    return [(row.identity, row.channel, row.contact_id) for row in await conn.execute(query)]
