"""The API document: every feature's operations gathered into /openapi.json, and the /docs page
that renders it."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

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


# A self-contained page: the machine has no network, so no CDN-hosted viewer.
_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>convbatch API</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}
h2{border-bottom:1px solid #ccc} .op{margin:.6rem 0;padding:.5rem;background:#f6f6f6}
.m{display:inline-block;width:4.5rem;font-weight:bold} pre{background:#fff;padding:.5rem;
overflow:auto;max-height:20rem} details summary{cursor:pointer}
</style></head><body><h1>convbatch API</h1>
<p>Machine-readable document: <a href="/openapi.json">/openapi.json</a></p><div id="ops"></div>
<script>
fetch('/openapi.json').then(r => r.json()).then(doc => {
  const root = document.getElementById('ops'); const byTag = {};
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods))
      (byTag[op.tags[0]] = byTag[op.tags[0]] || []).push([method, path, op]);
  for (const [tag, ops] of Object.entries(byTag)) {
    const h = document.createElement('h2'); h.textContent = tag; root.appendChild(h);
    for (const [method, path, op] of ops) {
      const d = document.createElement('details'); d.className = 'op';
      const s = document.createElement('summary');
      s.innerHTML = '<span class="m"></span><code></code> ';
      s.children[0].textContent = method.toUpperCase(); s.children[1].textContent = path;
      s.append(op.summary); d.appendChild(s);
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify(op, null, 2); d.appendChild(pre); root.appendChild(d);
    }
  }
});
</script></body></html>"""


async def docs_page(_request: Request) -> Response:
    return HTMLResponse(_PAGE)
