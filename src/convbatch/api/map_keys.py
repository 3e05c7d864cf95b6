"""Naming the key of a map value in a validation error.

msgspec locates an error inside a map value as ``batch_metadata[...]``: it knows the value was
wrong but not under which key. A client fixing its request needs the key, so the path is
walked again over the decoded body, and the first key whose value shows the reported problem
takes the place of ``[...]`` (``batch_metadata.campaign``, or ``batch_metadata["a b"]`` for a key
that is not a plain name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import msgspec

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\.\.\.)\]")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_JSON_TYPES: dict[type, str] = {dict: "object", list: "array", str: "str", int: "int",
                                float: "float", bool: "bool", type(None): "null"}  # fmt: skip

Check = Callable[[Any], bool]


def name_map_keys(path: str, message: str, body: bytes) -> str:
    """``path`` with every ``[...]`` replaced by the key that holds the offending value, where
    the body shows it; unchanged when it cannot tell."""
    if "[...]" not in path:
        return path
    tokens = [match[1] or f"[{match[2]}]" for match in _TOKEN.finditer(path)]
    check = _problem_check(message)
    if check is None or "".join(_render(tokens)) != path:
        return path
    try:
        body_value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return path
    found = _walk(body_value, tokens, check)
    return "".join(_render(found)) if found is not None else path


def _problem_check(message: str) -> Check | None:
    """What the offending value looks like, from msgspec's message."""
    longest = re.search(r"of length <= (\d+)", message)
    if longest:
        return lambda value: isinstance(value, (str, list, dict)) and len(value) > int(longest[1])
    got = re.search(r"got `([a-z]+)`", message)
    if got:
        return lambda value: _JSON_TYPES.get(type(value)) == got[1]
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        return lambda value: isinstance(value, dict) and missing[1] not in value
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        return lambda value: isinstance(value, dict) and unknown[1] in value
    return None


def _walk(value: Any, tokens: list[str], check: Check) -> list[str] | None:
    """The tokens with ``[...]`` resolved along the first route to a value that fails
    ``check``, or None."""
    if not tokens:
        return [] if check(value) else None
    head, rest = tokens[0], tokens[1:]
    if head == "[...]":
        candidates = list(value.items()) if isinstance(value, dict) else []
        for key, inner in candidates:
            found = _walk(inner, rest, check)
            if found is not None:
                return [_key_token(key), *found]
        return None
    if head.startswith("["):
        index = int(head[1:-1])
        if not isinstance(value, list) or index >= len(value):
            return None
        inner = value[index]
    elif isinstance(value, dict) and head in value:
        inner = value[head]
    else:
        return None
    found = _walk(inner, rest, check)
    return None if found is None else [head, *found]


def _key_token(key: str) -> str:
    return f"\x00{key}" if _PLAIN_KEY.match(key) else f"[{msgspec.json.encode(key).decode()}]"


def _render(tokens: list[str]) -> list[str]:
    """Tokens back into a path: names joined by dots, indexes attached."""
    out: list[str] = []
    for token in tokens:
        if token.startswith("\x00"):
            out.append("." + token[1:])
        elif token.startswith("["):
            out.append(token)
        else:
            out.append(("." if out else "") + token)
    return out
