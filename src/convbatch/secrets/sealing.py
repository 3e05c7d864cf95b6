"""Secrets of apps and webhooks at the edges: sealed into the stored document, opened when a
document is decoded (by ``__post_init__`` of the structs holding them, so every reader gets
plain values), masked in answers, and kept when an update sends the mask back."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from convbatch.secrets.box import PREFIX, current_box
from convbatch.secrets.fields import (
    Leaves,
    Path,
    app_leaves,
    masked,
    open_tree,
    restore_masked,
    transformed,
    webhook_leaves,
)

S = TypeVar("S", bound=msgspec.Struct)


def _has_sealed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(PREFIX)
    if isinstance(value, dict):
        return any(_has_sealed(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_sealed(v) for v in value)
    return False


def reveal(obj: msgspec.Struct, names: tuple[str, ...]) -> None:
    """Open, in place, the sealed strings held by the fields ``names`` of ``obj``."""
    for name in names:
        value = getattr(obj, name)
        if _has_sealed(value):
            setattr(obj, name, open_tree(value, current_box().open))


def sealed_json(obj: msgspec.Struct, leaves: Leaves) -> str:
    """The stored form of an app or webhook: JSON with every secret sealed."""
    doc = msgspec.to_builtins(obj)
    return msgspec.json.encode(transformed(doc, leaves, current_box().seal)).decode()


def _masked(obj: S, leaves: Leaves) -> S:
    return msgspec.convert(masked(msgspec.to_builtins(obj), leaves), type(obj))


def masked_app(app: S) -> S:
    return _masked(app, app_leaves)


def masked_webhook(webhook: S) -> S:
    return _masked(webhook, webhook_leaves)


def restore_webhook(new: S, old: S | None) -> S:
    old_doc = None if old is None else msgspec.to_builtins(old)
    doc = restore_masked(msgspec.to_builtins(new), old_doc, webhook_leaves)
    return msgspec.convert(doc, type(new))


def restore_app(new: S, old: S | None) -> S:
    """``new`` with masks replaced by ``old``'s secrets; a channel's secrets are looked up in the
    stored configuration of the same channel and ordinal number, wherever it is in the list."""
    new_doc = msgspec.to_builtins(new)
    old_doc = None if old is None else msgspec.to_builtins(old)
    positions: dict[tuple[Any, Any], int] = {}
    for index, cred in enumerate((old_doc or {}).get("channel_credentials") or []):
        positions.setdefault((cred.get("channel"), cred.get("credential_ordinal_number")), index)

    def old_path(path: Path) -> Path | None:
        if path[0] != "channel_credentials":
            return path
        cred = new_doc["channel_credentials"][path[1]]
        found = positions.get((cred.get("channel"), cred.get("credential_ordinal_number")))
        return None if found is None else ("channel_credentials", found, *path[2:])

    return msgspec.convert(restore_masked(new_doc, old_doc, app_leaves, old_path), type(new))
