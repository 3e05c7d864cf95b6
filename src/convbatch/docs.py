"""The API document: every feature's operations gathered into /openapi.json, and the /docs page
that renders it with Swagger UI ("Try it out" with a bearer token)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from convbatch.api.openapi import Operation, build_openapi
from convbatch.api.wire import json_response


def all_operations() -> list[Operation]:
    # Imported here so each feature's docs module can import the api package freely.
    from convbatch.apps.docs import OPERATIONS as app_ops
    from convbatch.batches.docs import OPERATIONS as batch_ops
    from convbatch.callbacks.docs import OPERATIONS as delivery_ops
    from convbatch.channels.docs import OPERATIONS as receipt_ops
    from convbatch.channels.sandbox_inbox import OPERATIONS as sandbox_ops
    from convbatch.consents.docs import OPERATIONS as consent_ops
    from convbatch.contacts.docs import OPERATIONS as contact_ops
    from convbatch.conversation.messages.docs import OPERATIONS as message_ops
    from convbatch.identity.docs import OPERATIONS as identity_ops
    from convbatch.jobs.docs import OPERATIONS as job_ops
    from convbatch.webhooks.docs import OPERATIONS as webhook_ops

    return [
        *identity_ops, *batch_ops, *job_ops, *app_ops, *webhook_ops, *contact_ops,
        *consent_ops, *message_ops, *receipt_ops, *sandbox_ops, *delivery_ops,
    ]  # fmt: skip


@functools.cache
def openapi_document() -> dict[str, Any]:
    return build_openapi(all_operations())


async def openapi_endpoint(_request: Request) -> Response:
    return json_response(openapi_document())


# Swagger UI comes from a Python package (swagger-ui-bundle-v2) and is served from this server:
# the page works offline. The start-up script is a file of its own rather than an inline script,
# so the page needs nothing but same-origin scripts; the validator badge (which would call an
# outside host) is switched off.
_STATIC = "/docs/static"
_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>convbatch API</title>
<link rel="stylesheet" href="{_STATIC}/swagger-ui.css">
<link rel="icon" type="image/png" href="{_STATIC}/favicon-32x32.png" sizes="32x32">
</head><body><div id="swagger-ui"></div>
<script src="{_STATIC}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>"""

_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: true,
    tryItOutEnabled: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
"""


async def docs_page(_request: Request) -> Response:
    return HTMLResponse(_PAGE)


async def docs_init(_request: Request) -> Response:
    return Response(_INIT, media_type="text/javascript")


docs_routes: list[BaseRoute] = [
    Route("/docs", docs_page, methods=["GET"]),
    Route("/docs/init.js", docs_init, methods=["GET"]),
    Mount(_STATIC, StaticFiles(directory=swagger_ui_path), name="swagger-ui"),
]
