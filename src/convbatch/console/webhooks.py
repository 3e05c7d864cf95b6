"""Webhooks page: each app's targets and triggers (never their secrets), recent deliveries with
their outcome, and the deliveries that gave up (DEAD: retried until the window closed; FAILED:
refused with a final 4xx) with a Re-drive button (the same re-drive as the API's)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from convbatch.apps.repository import list_apps
from convbatch.callbacks.attempts import list_deliveries, redrive
from convbatch.callbacks.policy import DEAD, FAILED
from convbatch.console import repository as repo
from convbatch.console.render import page
from convbatch.console.session import Session, check_form, read_form, signed_in
from convbatch.services import services_of
from convbatch.webhooks.repository import webhooks_of_app

RECENT = 30
GAVE_UP_SHOWN = 50  # of each state


@dataclass
class TargetView:
    id: str
    app: str
    target: str
    target_type: str
    triggers: list[str]
    signed: bool  # a secret is set (the secret itself is never shown)
    oauth: bool


@signed_in
async def webhooks_page(request: Request, session: Session) -> Response:
    targets: list[TargetView] = []
    async with services_of(request).db.read() as conn:
        apps = await list_apps(conn, session.project_id)
        names = {app.id: app.display_name or app.id for app in apps}
        for app in apps:
            for hook in await webhooks_of_app(conn, session.project_id, app.id):
                targets.append(TargetView(
                    hook.id, names[app.id], hook.target, hook.target_type, list(hook.triggers),
                    bool(hook.secret), hook.client_credentials is not None,
                ))  # fmt: skip
        recent = await repo.recent_deliveries(conn, session.project_id, RECENT)
        gave_up = []
        for state in (DEAD, FAILED):
            found, _ = await list_deliveries(conn, session.project_id, None, state, GAVE_UP_SHOWN)
            gave_up += found
    gave_up.sort(key=lambda d: d.id, reverse=True)
    return page(request, session, "webhooks.html", nav="webhooks", targets=targets,
                recent=recent, gave_up=gave_up[:GAVE_UP_SHOWN], app_names=names,
                any_dead=any(d.state == DEAD for d in gave_up),
                notice=request.query_params.get("redriven", ""))  # fmt: skip


@signed_in
async def redrive_deliveries(request: Request, session: Session) -> Response:
    """Queue the named delivery (DEAD or FAILED) again, or every DEAD one when none is named."""
    services = services_of(request)
    form = await read_form(request)
    check_form(services, session, form)
    chosen = form.get("delivery_id") or None
    async with services.db.transaction() as conn:
        ids = await redrive(conn, session.project_id, None, [chosen] if chosen else None,
                            services.now_ms())  # fmt: skip
    return RedirectResponse(f"/console/webhooks?redriven={len(ids)}", status_code=303)
