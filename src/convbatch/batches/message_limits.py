"""Caps on a message as sent (before rendering): the length of each of its strings, the number
of placeholders in it and its nesting. With the cap on each parameter value, they bound what
rendering can produce; the rendered-size cap (``render.py``) catches the rest per recipient."""

from __future__ import annotations

from typing import Any

import msgspec

from convbatch.batches.render import PLACEHOLDER
from convbatch.errors import InvalidArgument
from convbatch.limits import (
    MAX_BATCH_METADATA_BYTES,
    MAX_JSON_DEPTH,
    MAX_MESSAGE_STRING_CHARS,
    MAX_PLACEHOLDERS,
)


def check_message(message: Any, field: str = "message") -> None:
    """400 naming the first string over the cap, or the message, when a cap is passed."""
    placeholders = 0
    stack: list[tuple[Any, str, int]] = [(msgspec.to_builtins(message), field, 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidArgument.field(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, str):
            if len(node) > MAX_MESSAGE_STRING_CHARS:
                raise InvalidArgument.field(
                    path, f"longer than {MAX_MESSAGE_STRING_CHARS} characters"
                )
            placeholders += len(PLACEHOLDER.findall(node)) if "${" in node else 0
        elif isinstance(node, dict):
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
    if placeholders > MAX_PLACEHOLDERS:
        raise InvalidArgument.field(
            field, f"has {placeholders} placeholders; at most {MAX_PLACEHOLDERS} are allowed"
        )


def check_batch_metadata(metadata: dict[str, str] | None) -> None:
    if metadata and len(msgspec.json.encode(metadata)) > MAX_BATCH_METADATA_BYTES:
        raise InvalidArgument.field(
            "batch_metadata", f"larger than {MAX_BATCH_METADATA_BYTES} bytes of JSON"
        )
