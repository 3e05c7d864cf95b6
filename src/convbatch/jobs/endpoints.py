"""HTTP endpoints of the Batch API's /contacts and /consents resources."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from convbatch.api.auth import authenticated
from convbatch.api.wire import decode_json, json_response
from convbatch.apps.service import app_named_in_body
from convbatch.jobs.schemas import (
    CreateContactsRequest,
    DeleteContactsRequest,
    InsertConsentsRequest,
    JobAccepted,
)
from convbatch.jobs.service import store_job
from convbatch.services import services_of


@authenticated
async def create_contacts(request: Request, project_id: str) -> Response:
    req = await decode_json(request, CreateContactsRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        batch_id = await store_job(
            conn, project_id, "CONTACTS", "CREATE", req.contacts, services.now_ms()
        )
    return json_response(JobAccepted(batch_id))


@authenticated
async def delete_contacts(request: Request, project_id: str) -> Response:
    req = await decode_json(request, DeleteContactsRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        batch_id = await store_job(
            conn, project_id, "CONTACTS", "DELETE", req.contact_ids, services.now_ms()
        )
    return json_response(JobAccepted(batch_id))


@authenticated
async def insert_consents(request: Request, project_id: str) -> Response:
    req = await decode_json(request, InsertConsentsRequest)
    services = services_of(request)
    async with services.db.transaction() as conn:
        await app_named_in_body(conn, project_id, req.app_id)
        batch_id = await store_job(
            conn,
            project_id,
            "CONSENTS",
            "INSERT",
            # Explicit consent_type: the stored item must not depend on today's default.
            [
                {"identification": r.identification, "consent_type": r.consent_type}
                for r in req.consent_records
            ],
            services.now_ms(),
            app_id=req.app_id,
        )
    return json_response(JobAccepted(batch_id))


async def contacts_collection(request: Request) -> Response:
    handler = create_contacts if request.method == "POST" else delete_contacts
    return await handler(request)


routes = [
    Route("/contacts", contacts_collection, methods=["POST", "DELETE"]),
    Route("/consents", insert_consents, methods=["POST"]),
]
