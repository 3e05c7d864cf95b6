"""Consent operations for the read endpoints and for the engine (consents jobs, and the
opt-out check made before each send). Functions take the caller's connection."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from convbatch.api.paging import decode_token, encode_token
from convbatch.clock import to_rfc3339
from convbatch.consents import repository as repo
from convbatch.consents.schemas import (
    LIST_TYPES,
    ConsentAuditRecord,
    ConsentAuditRecords,
    ConsentIdentities,
    ConsentIdentity,
)
from convbatch.errors import InvalidArgument


def check_list_type(list_type: str) -> str:
    if list_type not in LIST_TYPES:
        raise InvalidArgument.field(
            "list_type", f"'{list_type}' is not one of {', '.join(LIST_TYPES)}"
        )
    return list_type


async def insert_consent(
    conn: AsyncConnection,
    project_id: str,
    app_id: str,
    identity: str,
    list_type: str,
    now_ms: int,
    origin: str = "ORIGIN_API",
) -> bool:
    """Put ``identity`` on the app's ``list_type`` list. Doing it twice changes nothing: the
    audit trail records only insertions that changed the list. Returns whether it did."""
    check_list_type(list_type)
    added = await repo.add_to_list(conn, project_id, app_id, list_type, identity, now_ms)
    if added:
        await repo.add_audit(
            conn, project_id, app_id, identity, list_type, "OPERATION_INSERT", origin, now_ms
        )
    return added


async def opted_out_lists(conn: AsyncConnection, app_id: str, identity: str) -> set[str]:
    """The lists of the app that ``identity`` is on (empty when it may receive anything)."""
    return await repo.lists_of(conn, app_id, identity)


async def identities_page(
    conn: AsyncConnection, app_id: str, list_type: str, size: int, token: str | None
) -> ConsentIdentities:
    check_list_type(list_type)
    kind = f"consents:{list_type}"
    after = decode_token(token, kind, 1)
    found = await repo.list_identities(
        conn, app_id, list_type, None if after is None else str(after[0]), size + 1
    )
    next_token = encode_token(kind, [found[size - 1]]) if len(found) > size else ""
    total = await repo.count_identities(conn, app_id, list_type)
    return ConsentIdentities([ConsentIdentity(one) for one in found[:size]], next_token, total)


async def audit_records(conn: AsyncConnection, app_id: str, identity: str) -> ConsentAuditRecords:
    records = [
        ConsentAuditRecord(
            origin=row.origin,
            operation=row.operation,
            list_type=row.list_type,
            project_id=row.project_id,
            app_id=row.app_id,
            datetime=to_rfc3339(datetime.fromtimestamp(row.created_at / 1000, tz=UTC)),
        )
        for row in await repo.audit_rows(conn, app_id, identity)
    ]
    return ConsentAuditRecords(ConsentIdentity(identity), records)
