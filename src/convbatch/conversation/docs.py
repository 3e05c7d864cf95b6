"""OpenAPI entries of the Conversation API subset."""

from convbatch.api.openapi import Operation
from convbatch.apps.schemas import AppCreateRequest, AppList, AppPatch, AppView
from convbatch.channels.inbound import HttpReceipt
from convbatch.consents.schemas import ConsentAuditRecords, ConsentIdentities
from convbatch.contacts.schemas import Contact, ContactCreateRequest, ContactList, ContactPatch
from convbatch.conversation.messages.schemas import ConversationMessage, MessageList
from convbatch.conversation.send_schemas import SendMessageRequest, SendMessageResponse
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
    Operation("POST", f"{P}/messages:send", "Send one message", "Messages (Conversation API)",
              SendMessageRequest, SendMessageResponse,
              description="The engine sends it like a batch message; receipts go to the app's "
              "webhooks or to callback_url. message_metadata is passed on as given.",
              responses={"404": "The app does not exist in this project"}),
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

_RECEIPTS = [
    Operation("POST", f"{P}/apps/{{app_id}}/relay-receipts",
              "Receipts from an upstream Conversation API", "Channel receipts",
              extension=True,
              description="Where a conversation_api channel has its upstream post callbacks. "
              "No bearer token: the x-sinch-webhook-signature headers must verify with the "
              "channel's driver_settings.callback_secret. Only message_delivery_report "
              "callbacks are used. 503 with Retry-After: not yet known, post it again later.",
              responses={"401": "Missing or invalid signature",
                         "503": "The message is not recorded as sent yet; retry later"}),
    Operation("POST", f"{P}/apps/{{app_id}}/http-receipts",
              "Receipts from the receiver of an http channel", "Channel receipts",
              HttpReceipt, extension=True,
              description="No bearer token: the X-Receipt-Token header must equal the "
              "channel's driver_settings.receipt_token. The body may also be a list of "
              "receipts. Posting a receipt twice is harmless.",
              responses={"401": "Missing or wrong receipt token",
                         "404": "No such message of this app",
                         "503": "Some messages are not recorded as sent yet; retry later"}),
]  # fmt: skip

OPERATIONS: list[Operation] = [
    *_APPS, *_WEBHOOKS, *_CONTACTS, *_CONSENTS, *_MESSAGES, *_RECEIPTS,
]  # fmt: skip
