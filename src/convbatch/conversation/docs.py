"""OpenAPI entries of the Conversation API subset."""

from convbatch.api.openapi import Operation
from convbatch.apps.schemas import AppCreateRequest, AppList, AppPatch, AppView
from convbatch.consents.schemas import ConsentAuditRecords, ConsentIdentities
from convbatch.contacts.schemas import Contact, ContactCreateRequest, ContactList, ContactPatch
from convbatch.conversation.messages.schemas import ConversationMessage, MessageList
from convbatch.webhooks.schemas import (
    Webhook,
    WebhookCreateRequest,
    WebhookList,
    WebhookPatch,
)

P = "/conversation/v1/projects/{project_id}"
MASK = (("update_mask", "Comma-separated fields to change; named fields missing from the "
         "body are reset", False),)  # fmt: skip
PAGE = (("page_size", "Items per page", False),
        ("page_token", "next_page_token of the previous page", False))  # fmt: skip

_APPS = [
    Operation("POST", f"{P}/apps", "Create an app and its channels", "Apps",
              AppCreateRequest, AppView,
              description="Each channel may name the driver that delivers its messages "
              "(driver, driver_settings, rate_limit: extensions)."),
    Operation("GET", f"{P}/apps", "All apps of the project", "Apps", None, AppList),
    Operation("GET", f"{P}/apps/{{app_id}}", "One app", "Apps", None, AppView),
    Operation("PATCH", f"{P}/apps/{{app_id}}", "Change an app", "Apps", AppPatch, AppView,
              query=MASK),
    Operation("DELETE", f"{P}/apps/{{app_id}}", "Delete an app with its webhooks and consent "
              "lists", "Apps"),
]  # fmt: skip
_WEBHOOKS = [
    Operation("POST", f"{P}/webhooks", "Subscribe a URL to an app's events", "Webhooks",
              WebhookCreateRequest, Webhook, description="At most five per app."),
    Operation("GET", f"{P}/apps/{{app_id}}/webhooks", "Webhooks of one app", "Webhooks",
              None, WebhookList),
    Operation("GET", f"{P}/webhooks/{{webhook_id}}", "One webhook", "Webhooks", None, Webhook),
    Operation("PATCH", f"{P}/webhooks/{{webhook_id}}", "Change a webhook", "Webhooks",
              WebhookPatch, Webhook, query=MASK),
    Operation("DELETE", f"{P}/webhooks/{{webhook_id}}", "Delete a webhook", "Webhooks"),
]  # fmt: skip
_CONTACTS = [
    Operation("POST", f"{P}/contacts", "Create one contact", "Contacts (Conversation API)",
              ContactCreateRequest, Contact),
    Operation("GET", f"{P}/contacts", "Contacts of the project, a page at a time",
              "Contacts (Conversation API)", None, ContactList,
              query=(*PAGE, ("external_id", "Only contacts with this external id", False),
                     ("channel", "With identity: only contacts reachable there", False),
                     ("identity", "With channel: only contacts reachable there", False))),
    Operation("GET", f"{P}/contacts/{{contact_id}}", "One contact",
              "Contacts (Conversation API)", None, Contact),
    Operation("PATCH", f"{P}/contacts/{{contact_id}}", "Change a contact",
              "Contacts (Conversation API)", ContactPatch, Contact, query=MASK),
    Operation("DELETE", f"{P}/contacts/{{contact_id}}", "Delete a contact",
              "Contacts (Conversation API)"),
]  # fmt: skip
_CONSENTS = [
    Operation("GET", f"{P}/apps/{{app_id}}/consents/{{list_type}}",
              "Identities on one of the app's opt-out lists", "Consents (Conversation API)",
              None, ConsentIdentities, query=PAGE),
    Operation("GET", f"{P}/apps/{{app_id}}/consents/identities/{{identity}}",
              "History of one identity's consent changes", "Consents (Conversation API)",
              None, ConsentAuditRecords),
]  # fmt: skip
_MESSAGES = [
    Operation("GET", f"{P}/messages/{{message_id}}", "One sent message and where it stands",
              "Messages (Conversation API)", None, ConversationMessage,
              description="batch_id, message_index, status, delivery_status and reason are "
              "extensions."),
    Operation("GET", f"{P}/messages", "Sent messages, a page at a time",
              "Messages (Conversation API)", None, MessageList,
              query=(*PAGE, ("app_id", "Only this app's messages", False),
                     ("batch_id", "Only this batch's messages (extension)", False),
                     ("channel", "Only messages sent on this channel", False),
                     ("start_time", "Accepted at or after (RFC 3339)", False),
                     ("end_time", "Accepted before (RFC 3339)", False))),
]  # fmt: skip

OPERATIONS: list[Operation] = [*_APPS, *_WEBHOOKS, *_CONTACTS, *_CONSENTS, *_MESSAGES]
