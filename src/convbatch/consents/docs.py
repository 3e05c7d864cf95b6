"""OpenAPI entries of the consent lists (read)."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import PAGE, Operation
from convbatch.consents.schemas import ConsentAuditRecords, ConsentIdentities

OPERATIONS = [
    Operation("GET", f"{P}/apps/{{app_id}}/consents/{{list_type}}",
              "Identities on one of the app's opt-out lists", "Consents (Conversation API)",
              None, ConsentIdentities, query=PAGE),
    Operation("GET", f"{P}/apps/{{app_id}}/consents/identities/{{identity}}",
              "History of one identity's consent changes", "Consents (Conversation API)",
              None, ConsentAuditRecords),
]  # fmt: skip
