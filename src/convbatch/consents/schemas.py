"""Wire shapes of the consent read endpoints."""

from __future__ import annotations

from typing import Literal, get_args

import msgspec

ListType = Literal["OPT_OUT_ALL", "OPT_OUT_MARKETING", "OPT_OUT_NOTIFICATION"]
LIST_TYPES: tuple[str, ...] = get_args(ListType)
Origin = Literal["ORIGIN_API", "ORIGIN_MO"]
Operation = Literal["OPERATION_INSERT", "OPERATION_UPDATE", "OPERATION_DELETE"]


class ConsentIdentity(msgspec.Struct):
    identity: str


class ConsentIdentities(msgspec.Struct):
    identities: list[ConsentIdentity]
    next_page_token: str
    total_size: int


class ConsentAuditRecord(msgspec.Struct, kw_only=True):
    origin: Origin
    operation: Operation
    list_type: ListType
    project_id: str
    app_id: str
    datetime: str


class ConsentAuditRecords(msgspec.Struct):
    """The audit trail of one identity, shaped as the SDKs' AuditRecordsList."""

    identity: ConsentIdentity
    audit_records: list[ConsentAuditRecord]
