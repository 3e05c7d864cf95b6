"""Console pages of message batches: the list with filters, one batch with its recipients a
page at a time, and cancelling a scheduled batch (through the batch service, as the API does)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from convbatch.batches import service as batch_service
from convbatch.batches.schemas import CancelBatchRequest
from convbatch.console import repository as repo
from convbatch.console.render import page
from convbatch.console.session import Session, check_form, read_form, signed_in
from convbatch.console.views import recipient_of, summary_of
from convbatch.services import services_of

BATCHES_PER_PAGE = 25
RECIPIENTS_PER_PAGE = 50
STATUSES = ("SCHEDULED", "READY", "PROCESSED", "CANCELLED")


def _cursor(raw: str | None) -> tuple[int, str] | None:
    at, sep, last_id = (raw or "").partition("_")
    return (int(at), last_id) if sep and at.isdigit() and last_id else None


def _int(raw: str | None, default: int = 0) -> int:
    return int(raw) if raw and raw.isdigit() else default


@signed_in
async def batch_list(request: Request, session: Session) -> Response:
    params = request.query_params
    status = params.get("status") or None
    filters = repo.BatchFilter(
        status=status if status in STATUSES else None,
        meta_key=params.get("key") or None,
        meta_value=params.get("value") or None,
    )
    async with services_of(request).db.read() as conn:
        rows = await repo.batch_page(
            conn, session.project_id, filters, _cursor(params.get("before")),
            BATCHES_PER_PAGE + 1,
        )  # fmt: skip
    items = [summary_of(row) for row in rows[:BATCHES_PER_PAGE]]
    more = len(rows) > BATCHES_PER_PAGE
    next_cursor = f"{items[-1].created_at}_{items[-1].id}" if more else ""
    return page(request, session, "batches.html", nav="batches", batches=items, filters=filters,
                statuses=STATUSES, next_cursor=next_cursor)  # fmt: skip


@signed_in
async def batch_detail(request: Request, session: Session) -> Response:
    batch_id = request.path_params["batch_id"]
    params = request.query_params
    identity = (params.get("identity") or "").strip() or None
    services = services_of(request)
    async with services.db.read() as conn:
        row = await repo.batch_row(conn, session.project_id, batch_id)
        if row is None:
            return page(request, session, "not_found.html", 404, nav="batches",
                        what=f"Batch {batch_id}")  # fmt: skip
        pages = max(1, -(-row.total // RECIPIENTS_PER_PAGE))
        number = min(max(_int(params.get("page"), 1), 1), pages)
        first = (number - 1) * RECIPIENTS_PER_PAGE
        rows = await repo.recipients(
            conn, session.project_id, batch_id, first, RECIPIENTS_PER_PAGE, identity
        )
    return page(
        request, session, "batch.html", nav="batches", batch=summary_of(row),
        recipients=[recipient_of(r) for r in rows], page_number=number, pages=pages,
        identity=identity or "", cancellable=row.status == "SCHEDULED",
        notice=params.get("notice", ""),
    )  # fmt: skip


@signed_in
async def cancel_batch(request: Request, session: Session) -> Response:
    batch_id = request.path_params["batch_id"]
    services = services_of(request)
    check_form(services, session, await read_form(request))
    async with services.db.transaction() as conn:
        cancelled = await batch_service.cancel(
            conn, session.project_id, CancelBatchRequest(batch_id=batch_id), services.now_ms()
        )
    notice = "cancelled" if cancelled else "not-cancelled"
    return RedirectResponse(f"/console/batches/{quote(batch_id)}?notice={notice}", status_code=303)
