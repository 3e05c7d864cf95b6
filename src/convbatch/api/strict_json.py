"""Checks on the shape of a JSON body that the typed decoder does not make: nesting depth and
duplicate keys (a body saying two things at once is refused, not read as its last word)."""

from __future__ import annotations

import json
from typing import Any

from convbatch.errors import InvalidArgument
from convbatch.limits import MAX_JSON_DEPTH, STRICT_JSON_MAX_BYTES


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise InvalidArgument.field(twice, "the key appears more than once in one object")
    return found


def _depth(tree: Any) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep() -> InvalidArgument:
    return InvalidArgument(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def check_json_shape(body: bytes) -> None:
    """400 for duplicate keys or nesting past the cap (bodies up to STRICT_JSON_MAX_BYTES;
    a malformed body is left to the typed decoder, which names the problem)."""
    if len(body) > STRICT_JSON_MAX_BYTES:
        return
    try:
        tree = json.loads(body, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise too_deep() from None
    except ValueError:
        return
    if _depth(tree) > MAX_JSON_DEPTH:
        raise too_deep()
