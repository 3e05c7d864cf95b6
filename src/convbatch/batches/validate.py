"""Checks on a send request that the schema alone cannot express. Each raises a 400 that names
the offending field."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from convbatch.apps.schemas import App
from convbatch.batches.message_limits import check_batch_metadata, check_message
from convbatch.batches.schemas import SendBatchRequest
from convbatch.errors import InvalidArgument
from convbatch.net.urls import check_outbound_url
from convbatch.schemas.app_message import app_message_errors
from convbatch.schemas.common import Recipient, recipient_error

_TTL = re.compile(r"^(\d+)s$")
TTL_MIN, TTL_MAX = 3, 315_576_000_000
MAX_PROPERTY_VALUE = 1024
MAX_MESSAGE_METADATA = 1024


def check_request(req: SendBatchRequest) -> None:
    """Everything that needs no database."""
    if not req.recipient_and_params:
        raise InvalidArgument.field("recipient_and_params", "at least one recipient is required")
    errors = app_message_errors(req.message, "message")
    if errors:
        raise InvalidArgument.field(*split_error(errors[0]))
    check_message(req.message)
    check_batch_metadata(req.batch_metadata)
    dispatch_only = req.processing_strategy == "DISPATCH_ONLY"
    for index, item in enumerate(req.recipient_and_params):
        recipient = item.recipient
        if (recipient.contact_id is None) == (recipient.identified_by is None) or (
            dispatch_only and recipient.contact_id is not None
        ):
            _recipient_problem(index, recipient, dispatch_only)
    check_options(req.ttl, req.callback_url, req.channel_properties)
    _check_metadata_size(req)


def check_options(
    ttl: str | None, callback_url: str | None, channel_properties: dict[str, str] | None
) -> None:
    """The options a batch and a single send share."""
    _check_ttl(ttl)
    _check_callback_url(callback_url)
    for key, value in (channel_properties or {}).items():
        if len(value) > MAX_PROPERTY_VALUE:
            raise InvalidArgument.field(
                f"channel_properties.{key}", f"longer than {MAX_PROPERTY_VALUE} characters"
            )


def _recipient_problem(index: int, recipient: Recipient, dispatch_only: bool) -> None:
    """The error of a recipient the loop above found wrong (paths are only built then: the
    loop runs for every recipient of every batch)."""
    path = f"recipient_and_params[{index}].recipient"
    problem = recipient_error(recipient, path)
    if problem:
        raise InvalidArgument.field(*split_error(problem))
    if dispatch_only and recipient.contact_id is not None:
        raise InvalidArgument.field(
            path, "DISPATCH_ONLY batches must address recipients with identified_by"
        )


def check_against_app(
    channel_priority_order: Sequence[str] | None,
    app: App,
    recipients: Sequence[Recipient] = (),
    recipient_path: str = "recipient_and_params[{}].recipient",
) -> None:
    """Every channel of a send's priority order must be configured on its app, and an app in
    DISPATCH mode (which keeps no contacts) takes only ``identified_by`` recipients."""
    configured = set(app.channels())
    for position, channel in enumerate(channel_priority_order or []):
        if channel not in configured:
            raise InvalidArgument.field(
                f"channel_priority_order[{position}]",
                f"channel {channel} is not configured on app {app.id}",
            )
    if app.processing_mode != "DISPATCH":
        return
    for index, recipient in enumerate(recipients):
        if recipient.contact_id is not None:
            raise InvalidArgument.field(
                recipient_path.format(index) + ".contact_id",
                f"app {app.id} is in DISPATCH mode: address recipients with identified_by",
            )


def split_error(error: str) -> tuple[str, str]:
    field, sep, description = error.partition(": ")
    return (field, description) if sep else ("message", error)


def _check_ttl(ttl: str | None) -> None:
    if ttl is None:
        return
    match = _TTL.match(ttl)
    if not match:
        raise InvalidArgument.field(
            "ttl", f"'{ttl}' must be a whole number of seconds like '86400s'"
        )
    if not TTL_MIN <= int(match[1]) <= TTL_MAX:
        raise InvalidArgument.field("ttl", f"must be between {TTL_MIN}s and {TTL_MAX}s")


def _check_callback_url(url: str | None) -> None:
    if url is not None:
        check_outbound_url("callback_url", url)


def _check_metadata_size(req: SendBatchRequest) -> None:
    """The merged message metadata travels as a JSON string of at most 1024 characters."""
    base = req.message_metadata or {}
    if not base and not any(item.message_metadata for item in req.recipient_and_params):
        return
    for index, item in enumerate(req.recipient_and_params):
        merged = {**base, **(item.message_metadata or {}), "_batch_id": "X" * 26}
        if len(msgspec.json.encode(merged)) > MAX_MESSAGE_METADATA:
            raise InvalidArgument.field(
                f"recipient_and_params[{index}].message_metadata",
                f"merged message metadata exceeds {MAX_MESSAGE_METADATA} characters",
            )
