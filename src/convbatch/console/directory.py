"""Contacts and consents pages: searchable lists of the project's contacts and of the
identities on its apps' opt-out lists."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from convbatch.apps.repository import list_apps
from convbatch.console import repository as repo
from convbatch.console.render import page
from convbatch.console.session import Session, signed_in
from convbatch.contacts.schemas import Contact
from convbatch.services import services_of

SHOWN = 200
_contact = msgspec.json.Decoder(Contact)


@signed_in
async def contacts_page(request: Request, session: Session) -> Response:
    search = (request.query_params.get("q") or "").strip()
    async with services_of(request).db.read() as conn:
        docs = await repo.contact_docs(conn, session.project_id, search, SHOWN + 1)
    found = [_contact.decode(doc) for doc in docs[:SHOWN]]
    return page(request, session, "contacts.html", nav="contacts", search=search,
                contacts=found, more=len(docs) > SHOWN)  # fmt: skip


@signed_in
async def consents_page(request: Request, session: Session) -> Response:
    search = (request.query_params.get("q") or "").strip()
    async with services_of(request).db.read() as conn:
        names = {app.id: app.display_name or app.id
                 for app in await list_apps(conn, session.project_id)}  # fmt: skip
        rows = await repo.consent_rows(conn, session.project_id, search, SHOWN + 1)
    return page(request, session, "consents.html", nav="consents", search=search,
                consents=rows[:SHOWN], app_names=names, more=len(rows) > SHOWN)  # fmt: skip
