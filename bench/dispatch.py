"""Dispatch benchmark: recipients per second from the first POST to the last message received by
the sandbox channel (no webhooks), on SQLite embedded and on PostgreSQL with 1 and 2 workers.

    python -m bench.dispatch [--batches 100] [--recipients 1000] [--runs 3] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time

import aiohttp
from sqlalchemy import func, select

from bench.harness import (
    create_tenant,
    database,
    machine,
    median,
    print_table,
    save,
    server,
    worker,
)
from bench.ingest import batch_body, token
from convbatch.db.engine import Database
from convbatch.db.tables import batches, sandbox_inbox


async def post_batches(
    url: str, tenant, count: int, recipients: int, concurrency: int = 4
) -> float:
    """POST ``count`` batches; returns the wall time of the first POST."""
    body = batch_body(tenant.app_id, recipients)
    async with aiohttp.ClientSession() as session:
        bearer = await token(session, url, tenant.key_id, tenant.key_secret)
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        target = f"{url}/v1/projects/{tenant.project_id}/messages"
        started = time.time()
        todo = iter(range(count))

        async def one() -> None:
            for _ in todo:
                async with session.post(target, data=body, headers=headers) as reply:
                    assert reply.status == 200, await reply.text()

        await asyncio.gather(*(one() for _ in range(concurrency)))
    return started


async def wait_done(db_url: str, expected: int, timeout: float) -> tuple[int, int]:
    """Wait until every message reached the sandbox and every batch is PROCESSED; returns
    (messages received, last receive time in ms)."""
    db = Database(db_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with db.read() as conn:
                got, last = (await conn.execute(
                    select(func.count(), func.max(sandbox_inbox.c.received_at)))).one()  # fmt: skip
                open_batches = (await conn.execute(select(func.count()).select_from(batches)
                                .where(batches.c.status != "PROCESSED"))).scalar_one()  # fmt: skip
            if got >= expected and open_batches == 0:
                return int(got), int(last)
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {got} of {expected} messages after {timeout}s")
            await asyncio.sleep(0.2)
    finally:
        await db.dispose()


def one_run(kind: str, workers: int, args: argparse.Namespace) -> float:
    total = args.batches * args.recipients
    with database(kind) as db_url:
        tenant = create_tenant(db_url)
        extra = () if workers == 0 else ("--no-engine",)
        with server(db_url, *extra) as url, contextlib.ExitStack() as stack:
            for _ in range(workers):
                stack.enter_context(worker(db_url))
            started = asyncio.run(post_batches(url, tenant, args.batches, args.recipients))
            got, last_ms = asyncio.run(wait_done(db_url, total, timeout=args.timeout))
    return got / (last_ms / 1000 - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--setups",
        nargs="+",
        default=["sqlite:0", "postgresql:1", "postgresql:2"],
        help="database:workers (0 = the engine inside the API process)",
    )
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.batches, args.recipients, args.runs = 3, 50, 1
    rows, data = [], []
    for setup in args.setups:
        kind, workers = setup.split(":")
        rates = [one_run(kind, int(workers), args) for _ in range(args.runs)]
        label = "embedded" if workers == "0" else f"API + {workers} worker(s)"
        data.append({"database": kind, "processes": label, "rates": rates})
        rows.append([kind, label, f"{median(rates):,.0f}", ", ".join(f"{r:,.0f}" for r in rates)])
    table = print_table(
        f"Dispatch to the sandbox: {args.batches} x {args.recipients} recipients ({machine()})",
        ["database", "processes", "median msgs/s", "runs"],
        rows,
    )
    print(f"results: {save('dispatch', {'rows': data, 'table': table})}")


if __name__ == "__main__":
    main()
