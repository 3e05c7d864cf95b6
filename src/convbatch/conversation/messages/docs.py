"""OpenAPI entries of messages:send and the message reads."""

from convbatch.api.openapi import CONVERSATION_PREFIX as P
from convbatch.api.openapi import PAGE, Operation
from convbatch.conversation.messages.changes import MessagePatch
from convbatch.conversation.messages.last import LastMessagesRequest
from convbatch.conversation.messages.schemas import ConversationMessage, MessageList
from convbatch.conversation.send_schemas import SendMessageRequest, SendMessageResponse

OPERATIONS = [
    Operation("POST", f"{P}/messages:send", "Send one message", "Messages (Conversation API)",
              SendMessageRequest, SendMessageResponse,
              description="The engine sends it like a batch message; receipts go to the app's "
              "webhooks or to callback_url. message_metadata is passed on as given.",
              responses={"404": "The app does not exist in this project"}),
    Operation("GET", f"{P}/messages/{{message_id}}", "One sent message and where it stands",
              "Messages (Conversation API)", None, ConversationMessage,
              description="message_status is where the message stands; batch_id and "
              "message_index (batch messages only), status, delivery_status and reason are "
              "extensions."),
    Operation("GET", f"{P}/messages", "Sent messages, a page at a time",
              "Messages (Conversation API)", None, MessageList,
              query=(*PAGE, ("app_id", "Only this app's messages", False),
                     ("batch_id", "Only this batch's messages (extension)", False),
                     ("channel", "Only messages sent on this channel", False),
                     ("start_time", "Accepted at or after (RFC 3339)", False),
                     ("end_time", "Accepted before (RFC 3339)", False),
                     ("contact_id", "Only messages to this contact", False),
                     ("channel_identity", "Only messages to this identity", False),
                     ("conversation_id", "Only this conversation's (none are kept)", False),
                     ("only_recipient_originated", "true: only messages from contacts", False),
                     ("direction", "TO_APP or TO_CONTACT", False),
                     ("messages_source", "CONVERSATION_SOURCE or DISPATCH_SOURCE", False),
                     ("view", "WITH_METADATA (default) or WITHOUT_METADATA", False)),
              description="Newest first by accept_time; one batch's messages in recipient "
              "order."),
    Operation("POST", f"{P}/messages:fetch-last-message",
              "The newest message of each channel identity or contact",
              "Messages (Conversation API)", LastMessagesRequest, MessageList),
    Operation("PATCH", f"{P}/messages/{{message_id}}", "Replace a sent message's metadata",
              "Messages (Conversation API)", MessagePatch, ConversationMessage,
              description="Only for messages that have left the queue (else 400)."),
    Operation("DELETE", f"{P}/messages/{{message_id}}", "Forget a sent message",
              "Messages (Conversation API)",
              description="Only for messages that have left the queue (else 400); batch counts "
              "stay as they were."),
]  # fmt: skip
