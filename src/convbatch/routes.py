"""Every route of the server, gathered from the features: the Batch API, the Conversation API
subset, and the operational endpoints."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route

from convbatch.api.auth import token_endpoint
from convbatch.apps.endpoints import routes as app_routes
from convbatch.batches.endpoints import routes as batch_message_routes
from convbatch.callbacks.endpoints import routes as delivery_routes
from convbatch.channels.inbound import routes as receipt_routes
from convbatch.channels.sandbox_inbox import routes as sandbox_routes
from convbatch.consents.endpoints import routes as consent_routes
from convbatch.console import console_routes
from convbatch.contacts.conflicts import routes as contact_identity_routes
from convbatch.contacts.endpoints import routes as contact_routes
from convbatch.contacts.merge import routes as contact_merge_routes
from convbatch.conversation.messages.changes import routes as message_change_routes
from convbatch.conversation.messages.endpoints import routes as message_routes
from convbatch.conversation.messages.last import routes as last_message_routes
from convbatch.conversation.send import routes as send_routes
from convbatch.docs import docs_routes, openapi_endpoint
from convbatch.health import healthz
from convbatch.jobs.endpoints import routes as batch_job_routes
from convbatch.metrics.scrape import metrics_endpoint
from convbatch.webhooks.endpoints import routes as webhook_routes

conversation_routes: list[BaseRoute] = [
    *app_routes,
    *webhook_routes,
    *consent_routes,
    *contact_identity_routes,
    *contact_merge_routes,
    *contact_routes,
    *send_routes,
    *message_routes,
    *message_change_routes,
    *last_message_routes,
    *receipt_routes,
    *sandbox_routes,
    *delivery_routes,
]

routes: list[BaseRoute] = [
    Route("/oauth2/token", token_endpoint, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
    Route("/openapi.json", openapi_endpoint, methods=["GET"]),
    *docs_routes,
    Mount("/v1/projects/{project_id}", routes=[*batch_message_routes, *batch_job_routes]),
    Mount("/conversation/v1/projects/{project_id}", routes=conversation_routes),
    Mount("/console", routes=console_routes),
]
