"""The webhook receiver of the end-to-end benchmark, run in its own process:

    python -m bench.receiver --port 9000

Every POST (except /_reset) is read and answered 200 at once; nothing is verified. It counts
requests, notes the wall time of the first and the last, and counts requests whose
Idempotency-Key it has seen before (``repeats``: second sends of a message by a channel driver).
GET /_stats reports them, POST /_reset sets them back to zero."""

from __future__ import annotations

import argparse
import time
from typing import Any

from aiohttp import web


def make_app() -> web.Application:
    state: dict[str, Any] = {"count": 0, "first": None, "last": None, "repeats": 0}
    seen: set[str] = set()

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            state["repeats"] += key in seen
            seen.add(key)
        now = time.time()
        if state["first"] is None:
            state["first"] = now
        state["count"] += 1
        state["last"] = now
        return web.Response()

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(state)

    async def reset(_request: web.Request) -> web.Response:
        state.update(count=0, first=None, last=None, repeats=0)
        seen.clear()
        return web.json_response(state)

    app = web.Application()
    app.router.add_get("/_stats", stats)
    app.router.add_post("/_reset", reset)
    app.router.add_post("/{tail:.*}", hook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
