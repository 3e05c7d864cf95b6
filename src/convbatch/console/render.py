"""Rendering console pages: the template environment and the small formatting helpers the
templates use (times, counts, message text)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from convbatch.clock import epoch_ms, parse_rfc3339
from convbatch.console.session import FORM_TOKEN_FIELD, Session, form_token
from convbatch.services import services_of

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

COUNT_NAMES = ("queued", "sent", "delivered", "read", "failed", "cancelled", "expired")
FINAL_STATUSES = ("PROCESSED", "CANCELLED")


def clock_time(ms: int | None) -> str:
    """Epoch milliseconds as a UTC wall-clock time people can read."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def rfc3339_time(text: str | None) -> str:
    """An RFC 3339 time from an API view, shown like the console's other times."""
    if not text:
        return ""
    try:
        return clock_time(epoch_ms(parse_rfc3339(text)))
    except ValueError:
        return text


def short_time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]


def message_text(body: str | None) -> str:
    """What a person reads of a rendered message: its text where it has one, else the JSON."""
    if not body:
        return ""
    try:
        message = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body
    text = _first_text(message)
    return text if text is not None else msgspec.json.format(body, indent=2)


def _first_text(message: Any) -> str | None:
    if isinstance(message, dict):
        inner = message.get("text_message")
        if isinstance(inner, dict) and isinstance(inner.get("text"), str):
            return str(inner["text"])
        for value in message.values():
            found = _first_text(value)
            if found is not None:
                return found
    return None


def counts_of(row: Any) -> dict[str, int]:
    return {"total": row.total, **{name: getattr(row, name) for name in COUNT_NAMES}}


def progress(counts: dict[str, int]) -> int:
    """Per cent of the batch's messages that have left the queue."""
    total = counts["total"]
    return 100 if total == 0 else round(100 * (total - counts["queued"]) / total)


templates.env.globals.update(
    clock_time=clock_time,
    rfc3339_time=rfc3339_time,
    short_time=short_time,
    COUNT_NAMES=COUNT_NAMES,
    progress=progress,
)


# Pages are private and act on their project: never cached, never framed by another site, and
# no script or style from anywhere but the console itself (progress bars use inline widths).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin",
}


def page(
    request: Request, session: Session | None, name: str, status_code: int = 200, **context: Any
) -> Response:
    """A full page: the template with the signed-in project and a form token for its forms."""
    token = form_token(services_of(request), session) if session is not None else ""
    context.update(session=session, csrf_field=FORM_TOKEN_FIELD, csrf_token=token)
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=PAGE_HEADERS
    )
