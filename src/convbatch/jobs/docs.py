"""OpenAPI entries of the contacts and consents batch endpoints."""

from convbatch.api.openapi import Operation
from convbatch.jobs.schemas import (
    CreateContactsRequest,
    DeleteContactsRequest,
    InsertConsentsRequest,
    JobAccepted,
)

P = "/v1/projects/{project_id}"

OPERATIONS = [
    Operation("POST", f"{P}/contacts", "Create up to 1000 contacts asynchronously", "Contacts",
              CreateContactsRequest, JobAccepted),
    Operation("DELETE", f"{P}/contacts", "Delete up to 1000 contacts asynchronously",
              "Contacts", DeleteContactsRequest, JobAccepted),
    Operation("POST", f"{P}/consents", "Insert up to 1000 consent records", "Consents",
              InsertConsentsRequest, JobAccepted),
]  # fmt: skip
