"""OpenAPI entries of the channel receipt endpoints."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import Operation
from convbatch.channels.inbound import HttpReceipt

OPERATIONS = [
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
