"""PATCH semantics shared by apps, webhooks and contacts.

With an ``update_mask`` (comma-separated top-level field names) exactly the named fields change:
a named field missing from the body, or sent as null, goes back to its default. Without a mask,
every field present in the body changes, and an explicit null also means "back to the default".
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET
from starlette.requests import Request

from convbatch.errors import InvalidArgument

S = TypeVar("S", bound=msgspec.Struct)


def update_mask(request: Request, allowed: Collection[str]) -> list[str] | None:
    """The mask from ``?update_mask=a,b`` or repeated ``?update_mask.paths=a``; None if absent."""
    raw = [*request.query_params.getlist("update_mask"),
           *request.query_params.getlist("update_mask.paths")]  # fmt: skip
    if not raw:
        return None
    names = [name.strip() for part in raw for name in part.split(",") if name.strip()]
    # A nested path such as "callback_settings.secret" replaces its whole top-level field.
    fields = list(dict.fromkeys(name.split(".", 1)[0] for name in names))
    for name in fields:
        if name not in allowed:
            raise InvalidArgument.field("update_mask", f"'{name}' is not an updatable field")
    return fields


def requested_changes(patch: msgspec.Struct, mask: list[str] | None) -> dict[str, Any]:
    """Field name -> new value, where None means "reset to the default"."""
    if mask is None:
        names = [n for n in patch.__struct_fields__ if getattr(patch, n) is not UNSET]
    else:
        names = mask
    return {n: None if getattr(patch, n) is UNSET else getattr(patch, n) for n in names}


def apply_changes(
    current: S,
    changes: dict[str, Any],
    required: Collection[str] = (),
    defaults: dict[str, Any] | None = None,
) -> S:
    """A copy of ``current`` with ``changes`` applied. A cleared field takes its value from
    ``defaults``, else the struct's own default; clearing a required field is a 400."""
    fields = {f.name: f for f in msgspec.structs.fields(type(current))}
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if value is not None:
            values[name] = value
            continue
        if name in required:
            raise InvalidArgument.field(name, "cannot be cleared")
        if defaults and name in defaults:
            values[name] = defaults[name]
            continue
        info = fields[name]
        if info.default_factory is not msgspec.NODEFAULT:
            values[name] = info.default_factory()
        elif info.default is not msgspec.NODEFAULT:
            values[name] = info.default
        else:
            raise InvalidArgument.field(name, "cannot be cleared")
    return msgspec.structs.replace(current, **values)
