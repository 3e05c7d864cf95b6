"""Decoding request bodies into msgspec Structs, and encoding responses.

Every rejection names the offending field the way a client wrote it (``recipient_and_params[3].
recipient.contact_id``), so a 400 tells the caller exactly what to fix.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from convbatch.api.map_keys import name_map_keys
from convbatch.api.strict_json import check_json_shape, too_deep
from convbatch.errors import (
    InvalidArgument,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from convbatch.services import services_of

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_PATH = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$", re.S)


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(content), status_code, media_type="application/json")


def field_path(raw: str) -> str:
    """Turn msgspec's ``$.a.b[0]`` location into ``a.b[0]``."""
    return raw[1:] if raw.startswith(".") else raw


def validation_error(exc: msgspec.ValidationError, body: bytes = b"") -> InvalidArgument:
    text = str(exc)
    match = _PATH.match(text)
    # Errors at the top level of the body carry no location.
    path = field_path(match["path"]) if match else ""
    message = match["msg"] if match else text
    path = name_map_keys(path, message, body)
    missing = re.match(r"Object missing required field `([^`]+)`", message)
    if missing:
        where = f"{path}.{missing[1]}" if path else missing[1]
        return InvalidArgument.field(where, "required field is missing")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
    if unknown:
        where = f"{path}.{unknown[1]}" if path else unknown[1]
        return InvalidArgument.field(where, "unknown field")
    return InvalidArgument.field(path or "body", message)


async def read_body(request: Request, limit: int, timeout_s: float | None = None) -> bytes:
    """The raw body, refusing anything over ``limit`` bytes without reading it all, and cutting
    off a client that takes longer than ``timeout_s`` (the process setting by default) to send
    it: a slow upload must not hold what the request holds while it reads."""
    if timeout_s is None:
        timeout_s = services_of(request).settings.body_read_timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            return await _read_body(request, limit)
    except TimeoutError:
        raise RequestTimeout(f"The request body did not arrive within {timeout_s:g} s") from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request) -> bytes:
    """Check the content type, then read the body (size cap, read timeout)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, got {content_type or 'none'}"
        )
    return await read_body(request, services_of(request).settings.max_body_bytes)


async def decode_json(request: Request, type_: type[T]) -> T:
    """Check the content type and size, then decode and validate the body as ``type_``."""
    return decode_json_body(await read_json_body(request), type_)


def decode_json_body(body: bytes, type_: type[T]) -> T:
    """Decode and validate a body already read as ``type_``."""
    if not body.strip():
        raise InvalidArgument("Request body is empty; a JSON object is required")
    check_json_shape(body)
    try:
        return msgspec.json.decode(body, type=type_)
    except RecursionError:
        raise too_deep() from None
    except msgspec.ValidationError as exc:
        raise validation_error(exc, body) from None
    except msgspec.DecodeError as exc:
        raise InvalidArgument(f"Malformed JSON: {exc}") from None
