"""The web console for people, at ``/console``: server-rendered pages with live updates over
Server-Sent Events, signed in with an access key. Templates and static files ship inside this
package; nothing is built or fetched at install or run time."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from convbatch.console import batches, directory, inbox, live, signin, webhooks

STATIC = Path(__file__).parent / "static"

console_routes: list[BaseRoute] = [
    Route("/", signin.home, methods=["GET"]),
    Route("/sign-in", signin.sign_in_form, methods=["GET"]),
    Route("/sign-in", signin.sign_in, methods=["POST"]),
    Route("/sign-out", signin.sign_out, methods=["POST"]),
    Route("/batches", batches.batch_list, methods=["GET"]),
    Route("/batches/{batch_id}", batches.batch_detail, methods=["GET"]),
    Route("/batches/{batch_id}/cancel", batches.cancel_batch, methods=["POST"]),
    Route("/batches/{batch_id}/live", live.batch_counts, methods=["GET"]),
    Route("/inbox", inbox.inbox_page, methods=["GET"]),
    Route("/inbox/live", live.inbox_messages, methods=["GET"]),
    Route("/webhooks", webhooks.webhooks_page, methods=["GET"]),
    Route("/webhooks/redrive", webhooks.redrive_deliveries, methods=["POST"]),
    Route("/contacts", directory.contacts_page, methods=["GET"]),
    Route("/consents", directory.consents_page, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="console-static"),
]
