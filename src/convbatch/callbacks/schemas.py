"""Wire shapes of the webhook delivery extension (inspecting and re-driving deliveries)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from convbatch.schemas.common import StrictStruct

MAX_REDRIVE_IDS = 1000


class AttemptView(msgspec.Struct, kw_only=True):
    attempt: int
    time: str
    target: str
    latency_ms: int
    http_status: int | None = None
    error: str | None = None
    response_body: str | None = None


class DeliveryView(msgspec.Struct, kw_only=True):
    id: str
    event_id: str
    app_id: str
    webhook_id: str | None
    target: str
    trigger: str
    message_id: str | None
    batch_id: str | None
    state: str
    attempts: int
    redrives: int
    created_time: str
    updated_time: str
    next_attempt_time: str | None  # only while PENDING and not waiting for an earlier one
    waiting_for_earlier: bool  # held until the message's earlier event reaches this endpoint
    finished_time: str | None
    last_status: int | None
    last_error: str | None
    payload: msgspec.Raw  # the callback body as sent
    attempt_log: list[AttemptView]


class DeliveryList(msgspec.Struct):
    deliveries: list[DeliveryView]
    next_page_token: str = ""


class RedriveRequest(StrictStruct, kw_only=True):
    """Which deliveries to send again: the given ids (DEAD or FAILED), or all DEAD ones."""

    delivery_ids: Annotated[list[str], Meta(max_length=MAX_REDRIVE_IDS)] | None = None


class RedriveResult(msgspec.Struct):
    delivery_ids: list[str]
