"""The sandbox inbox, shown like a phone: conversations by identity on one side, the open
conversation's messages newest first on the other, new ones arriving live."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from convbatch.console import repository as repo
from convbatch.console.live import inbox_item
from convbatch.console.render import page
from convbatch.console.session import Session, signed_in
from convbatch.services import services_of

SCANNED = 500  # newest messages grouped into the conversation list
SHOWN = 100  # messages of the open conversation


@dataclass
class Conversation:
    identity: str
    channel: str
    latest_text: str
    latest: str
    messages: int


def _conversations(items: list[dict[str, object]]) -> list[Conversation]:
    found: dict[str, Conversation] = {}
    for item in items:  # newest first: the first seen of an identity is its latest
        identity = str(item["identity"])
        if identity in found:
            found[identity].messages += 1
            continue
        found[identity] = Conversation(identity, str(item["channel"]), str(item["text"]),
                                       str(item["received"]), 1)  # fmt: skip
    return list(found.values())


@signed_in
async def inbox_page(request: Request, session: Session) -> Response:
    params = request.query_params
    search = (params.get("q") or "").strip()
    async with services_of(request).db.read() as conn:
        app_ids = await repo.project_app_ids(conn, session.project_id)
        recent = [inbox_item(r) for r in await repo.inbox_newest(conn, app_ids, search, SCANNED)]
        conversations = _conversations(recent)
        opened = params.get("open") or (conversations[0].identity if conversations else "")
        thread = []
        if opened:
            rows = await repo.inbox_newest(conn, app_ids, None, SHOWN, exact_identity=opened)
            thread = [inbox_item(r) for r in rows]
    newest = recent[0] if recent else None
    after = f"{newest['received_ms']}_{newest['message_id']}" if newest else ""
    return page(request, session, "inbox.html", nav="inbox", search=search,
                conversations=conversations, opened=opened, thread=thread,
                after=after)  # fmt: skip
