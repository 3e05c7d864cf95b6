"""Per-recipient ``${name}`` substitution and metadata merging for batch messages.

The dispatch engine renders one message per recipient on its hot path, so a batch's message is
compiled once into a :class:`Template` and then filled cheaply for each recipient:

* every string with placeholders becomes a printf-style pattern (``"Hi %(name)s"``), so filling
  it is a single C-level ``pattern % values`` and a value that itself contains ``${...}`` (or
  ``%(x)s``) is inserted verbatim, never scanned again;
* sub-trees without placeholders are kept as they are and shared by every rendered message; only
  the containers on the path to a placeholder are copied.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from convbatch.limits import MAX_RENDERED_CHARS

# A placeholder is "${" + name + "}"; any other "$" (e.g. "$5", "${", "${bad name}") is text.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")

_EMPTY: Mapping[str, str] = {}

# Builds a rendered node from a mapping that has a value for every name of the template.
_Builder = Callable[[Mapping[str, str]], Any]


class Oversized(list[str]):
    """What ``render`` answers when the filled message would pass the rendered-size cap: like
    the list of missing names, a reason for that recipient alone to fail."""

    def __init__(self, size: int, cap: int) -> None:
        super().__init__()
        self.description = (
            f"the message rendered for this recipient would have about {size} characters; "
            f"the cap (CONVBATCH_MAX_RENDERED_CHARS) is {cap}"
        )


class Template:
    """A batch message compiled for repeated per-recipient rendering."""

    __slots__ = ("_base_chars", "_build", "_cap", "_counts", "_message", "_placeholders")

    def __init__(
        self, message: dict[str, Any], names: Counter[str], build: _Builder | None,
        cap: int = MAX_RENDERED_CHARS,
    ) -> None:  # fmt: skip
        self._message = message
        self._build = build
        self._placeholders = frozenset(names)
        # The rendered size is at most the template's plus each value's length per occurrence.
        self._counts = tuple(names.items())
        self._base_chars = len(msgspec.json.encode(message)) if build is not None else 0
        self._cap = cap

    @classmethod
    def compile(cls, message: dict[str, Any], cap: int = MAX_RENDERED_CHARS) -> Template:
        """Compile a message tree (``msgspec.to_builtins`` of an AppMessage). The tree is kept by
        reference and shared with rendered messages: neither it nor rendered results may be
        mutated afterwards."""
        names: Counter[str] = Counter()
        build = _compile(message, names)
        return cls(message, names, build, cap)

    @property
    def placeholders(self) -> frozenset[str]:
        """The distinct placeholder names used anywhere in the message."""
        return self._placeholders

    def render(
        self, parameters: Mapping[str, str] | None, defaults: Mapping[str, str] | None = None
    ) -> dict[str, Any] | list[str]:
        """The message filled with the recipient's ``parameters``, falling back to the batch's
        ``defaults`` per name; or, if some names have no value in either, their sorted list.

        The result is a new tree whose unchanged sub-trees are shared with the template (for a
        template without placeholders it is the template's own tree)."""
        build = self._build
        if build is None:
            return self._message
        params = parameters or _EMPTY
        # Usual case: the recipient has every value, so its own mapping feeds the patterns as is.
        # (keys() >= set probes each name; issubset(keys) would build a set of all the keys.)
        if not params.keys() >= self._placeholders:
            params = {**defaults, **params} if defaults else params
            missing = self._placeholders.difference(params.keys())
            if missing:
                return sorted(missing)  # sorted: a stable failure description
        size = self._base_chars
        for name, count in self._counts:
            size += count * len(params[name])
        if size > self._cap:
            return Oversized(size, self._cap)
        return build(params)


def _compile(node: Any, names: Counter[str]) -> _Builder | None:
    """A builder for ``node``, or None when it has no placeholders and can be shared as is."""
    if isinstance(node, str):
        return _compile_str(node, names)
    if isinstance(node, dict):
        dict_parts = [(k, b) for k, v in node.items() if (b := _compile(v, names)) is not None]
        return _dict_builder(node, dict_parts) if dict_parts else None
    if isinstance(node, list):
        list_parts = [(i, b) for i, v in enumerate(node) if (b := _compile(v, names)) is not None]
        return _list_builder(node, list_parts) if list_parts else None
    return None  # numbers, booleans, None: never substituted


def _compile_str(text: str, names: Counter[str]) -> _Builder | None:
    # re.split alternates literal text and captured names: [text, name, text, name, ..., text].
    pieces = PLACEHOLDER.split(text)
    if len(pieces) == 1:
        return None
    pattern = []
    for i, piece in enumerate(pieces):
        if i % 2:
            names[piece] += 1
            pattern.append(f"%({piece})s")  # names never contain ")", so the key is exact
        else:
            pattern.append(piece.replace("%", "%%"))
    # The bound method is the builder: no Python frame per string.
    build: _Builder = "".join(pattern).__mod__
    return build


def _dict_builder(node: dict[Any, Any], parts: list[tuple[Any, _Builder]]) -> _Builder:
    def build(values: Mapping[str, str]) -> dict[Any, Any]:
        out = node.copy()  # keeps key order; only the dynamic entries are replaced
        for key, child in parts:
            out[key] = child(values)
        return out

    return build


def _list_builder(node: list[Any], parts: list[tuple[int, _Builder]]) -> _Builder:
    def build(values: Mapping[str, str]) -> list[Any]:
        out = node.copy()
        for i, child in parts:
            out[i] = child(values)
        return out

    return build


def missing_description(names: Sequence[str]) -> str:
    """Reason description for a recipient that failed because of ``names`` (sorted), or
    because its message would be too large (``Oversized``)."""
    if isinstance(names, Oversized):
        return names.description
    return "missing values for parameters: " + ", ".join(names)


def merge_metadata(
    batch_level: Mapping[str, str] | None, recipient_level: Mapping[str, str] | None, batch_id: str
) -> dict[str, str]:
    """Request-level metadata overridden by the recipient's, plus ``_batch_id``, which callers
    cannot set: it always names the batch so receipts and MO messages map back to it."""
    merged = dict(batch_level) if batch_level else {}
    if recipient_level:
        merged.update(recipient_level)
    merged["_batch_id"] = batch_id
    return merged
