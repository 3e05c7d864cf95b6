"""OpenAPI entries of the webhooks resource."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import MASK, Operation
from convbatch.webhooks.schemas import Webhook, WebhookCreateRequest, WebhookList, WebhookPatch

OPERATIONS = [
    Operation("POST", f"{P}/webhooks", "Subscribe a URL to an app's events", "Webhooks",
              WebhookCreateRequest, Webhook, description="At most five per app."),
    Operation("GET", f"{P}/apps/{{app_id}}/webhooks", "Webhooks of one app", "Webhooks",
              None, WebhookList),
    Operation("GET", f"{P}/webhooks/{{webhook_id}}", "One webhook", "Webhooks", None, Webhook),
    Operation("PATCH", f"{P}/webhooks/{{webhook_id}}", "Change a webhook", "Webhooks",
              WebhookPatch, Webhook, query=MASK),
    Operation("DELETE", f"{P}/webhooks/{{webhook_id}}", "Delete a webhook", "Webhooks"),
]  # fmt: skip
