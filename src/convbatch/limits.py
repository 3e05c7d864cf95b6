"""Caps on what a request may carry, so a small request can never make the server store or
render megabytes. Each is a ``CONVBATCH_*`` environment setting read when the process starts
(they shape the wire schemas, which are built once); the defaults are generous for real use.
"""

from __future__ import annotations

import os
from typing import Annotated

from msgspec import Meta


def _cap(name: str, default: int) -> int:
    return int(os.environ.get(f"CONVBATCH_{name}", default))


# Every string inside a message (text, titles, URLs, choice labels, ...).
MAX_MESSAGE_STRING_CHARS = _cap("MAX_MESSAGE_STRING_CHARS", 4096)
# ``${name}`` occurrences in one message, counted over all its strings.
MAX_PLACEHOLDERS = _cap("MAX_PLACEHOLDERS", 100)
# A message as rendered for one recipient, in characters of JSON; a larger one fails alone.
MAX_RENDERED_CHARS = _cap("MAX_RENDERED_CHARS", 16 * 1024)
# A channel identity (phone number, PSID, ...).
MAX_IDENTITY_CHARS = _cap("MAX_IDENTITY_CHARS", 256)
# Keys and values of parameters, metadata and channel-property maps.
MAX_MAP_KEYS = _cap("MAX_MAP_KEYS", 100)
MAX_MAP_KEY_CHARS = _cap("MAX_MAP_KEY_CHARS", 128)
MAX_MAP_VALUE_CHARS = _cap("MAX_MAP_VALUE_CHARS", 1024)
# Batch metadata as a whole, in bytes of JSON.
MAX_BATCH_METADATA_BYTES = _cap("MAX_BATCH_METADATA_BYTES", 4096)
# Nesting of objects and arrays in any request body.
MAX_JSON_DEPTH = _cap("MAX_JSON_DEPTH", 32)
# Bodies up to this size are also checked for duplicate keys (bigger ones, batch sends of many
# recipients, are decoded by the typed decoder alone, which keeps the last value).
STRICT_JSON_MAX_BYTES = _cap("STRICT_JSON_MAX_BYTES", 64 * 1024)

Identity = Annotated[str, Meta(min_length=1, max_length=MAX_IDENTITY_CHARS)]
MapKey = Annotated[str, Meta(max_length=MAX_MAP_KEY_CHARS)]
MapValue = Annotated[str, Meta(max_length=MAX_MAP_VALUE_CHARS)]
BoundedMap = Annotated[dict[MapKey, MapValue], Meta(max_length=MAX_MAP_KEYS)]
# Channel properties keep their own value check (validate.py), which names the property.
PropertyMap = Annotated[dict[MapKey, str], Meta(max_length=MAX_MAP_KEYS)]

# Per project quotas; past them a create or send is 429 RESOURCE_EXHAUSTED (0: no quota).
MAX_APPS_PER_PROJECT = _cap("MAX_APPS_PER_PROJECT", 100)
MAX_WEBHOOKS_PER_PROJECT = _cap("MAX_WEBHOOKS_PER_PROJECT", 500)
MAX_QUEUED_MESSAGES_PER_PROJECT = _cap("MAX_QUEUED_MESSAGES_PER_PROJECT", 1_000_000)
