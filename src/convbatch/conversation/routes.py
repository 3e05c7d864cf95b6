"""Routes of the Conversation API subset (mounted at /conversation/v1/projects/{project_id})."""

from __future__ import annotations

from starlette.routing import BaseRoute

from convbatch.apps.endpoints import routes as app_routes
from convbatch.callbacks.endpoints import routes as delivery_routes
from convbatch.channels.inbound import routes as receipt_routes
from convbatch.channels.sandbox_inbox import routes as sandbox_routes
from convbatch.consents.endpoints import routes as consent_routes
from convbatch.contacts.endpoints import routes as contact_routes
from convbatch.conversation.messages.endpoints import routes as message_routes
from convbatch.conversation.send import routes as send_routes
from convbatch.webhooks.endpoints import routes as webhook_routes

routes: list[BaseRoute] = [
    *app_routes,
    *webhook_routes,
    *consent_routes,
    *contact_routes,
    *send_routes,
    *message_routes,
    *receipt_routes,
    *sandbox_routes,
    *delivery_routes,
]
