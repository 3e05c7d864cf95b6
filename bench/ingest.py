"""Ingest benchmark: latency and throughput of 1000-recipient POST /messages against a real
server process, next to the raw cost of inserting the same rows (the baseline).

    python -m bench.ingest [--requests 200] [--recipients 1000] [--concurrency 1 8]
                           [--databases sqlite postgresql] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time

import aiohttp
import msgspec

from bench.harness import (
    create_tenant,
    database,
    machine,
    median,
    percentile,
    print_table,
    save,
    server,
)
from convbatch.db.bulk import insert_rows
from convbatch.db.engine import Database
from convbatch.db.tables import messages
from convbatch.ids import new_ulids


def batch_body(app_id: str, recipients: int) -> bytes:
    return msgspec.json.encode({
        "app_id": app_id,
        "message": {"text_message": {"text": "Hello ${name}, your code is ${code}"}},
        "recipient_and_params": [
            {"recipient": {"identified_by": {"channel_identities": [
                {"channel": "SMS", "identity": f"+1555{i:07d}"}]}},
             "parameters": {"name": f"User {i}", "code": str(100000 + i)}}
            for i in range(recipients)
        ],
        "batch_metadata": {"bench": "ingest"},
    })  # fmt: skip


async def token(session: aiohttp.ClientSession, url: str, key_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    async with session.post(
        f"{url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ) as reply:
        return str((await reply.json())["access_token"])


async def post_many(url: str, tenant, body: bytes, requests: int, concurrency: int) -> dict:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        headers = {
            "Authorization": "Bearer "
            + await token(session, url, tenant.key_id, tenant.key_secret),
            "Content-Type": "application/json",
        }
        target = f"{url}/v1/projects/{tenant.project_id}/messages"
        remaining = iter(range(requests))

        async def worker() -> None:
            for _ in remaining:
                start = time.perf_counter()
                async with session.post(target, data=body, headers=headers) as reply:
                    await reply.read()
                    assert reply.status == 200, await reply.text()
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed}


async def raw_insert_ms(db_url: str, recipients: int, rounds: int) -> float:
    """Baseline: the same number of message rows inserted straight into the database."""
    db = Database(db_url)
    payload = (
        '{"recipient":{"identified_by":{"channel_identities":[{"channel":"SMS","identity":"+1"}]}}}'
    )
    timings = []
    try:
        for _ in range(rounds):
            now = int(time.time() * 1000)
            rows = [(mid, "p", "a", "b" + mid[1:], i, payload, "QUEUED", now, now, now)
                    for i, mid in enumerate(new_ulids(recipients))]  # fmt: skip
            start = time.perf_counter()
            async with db.transaction() as conn:
                await insert_rows(conn, messages, (
                    "id", "project_id", "app_id", "batch_id", "idx", "payload", "state",
                    "due_at", "created_at", "updated_at"), rows)  # fmt: skip
            timings.append((time.perf_counter() - start) * 1000)
    finally:
        await db.dispose()
    return median(timings)


def run(kind: str, args: argparse.Namespace) -> list[dict]:
    body_cache: dict[str, bytes] = {}
    results = []
    with database(kind) as db_url:
        tenant = create_tenant(db_url)
        body = body_cache.setdefault(tenant.app_id, batch_body(tenant.app_id, args.recipients))
        with server(db_url) as url:
            for concurrency in args.concurrency:
                asyncio.run(post_many(url, tenant, body, min(10, args.requests), concurrency))
                got = asyncio.run(post_many(url, tenant, body, args.requests, concurrency))
                lat = [x * 1000 for x in got["latencies"]]
                results.append({
                    "database": kind, "concurrency": concurrency, "requests": args.requests,
                    "recipients": args.recipients, "p50_ms": median(lat),
                    "p99_ms": percentile(lat, 99),
                    "recipients_per_s": args.requests * args.recipients / got["elapsed"],
                })  # fmt: skip
        baseline = asyncio.run(raw_insert_ms(db_url, args.recipients, 20 if not args.smoke else 3))
        for row in results:
            row["raw_insert_ms"] = baseline
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--smoke", action="store_true", help="tiny run to check the harness")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.recipients, args.concurrency = 5, 50, [1, 2]
    rows = [r for kind in args.databases for r in run(kind, args)]
    table = print_table(
        f"Ingest: POST /messages with {args.recipients} recipients ({machine()})",
        ["database", "conc.", "requests", "p50 ms", "p99 ms", "recipients/s",
         "raw insert ms", "p50 / raw"],
        [[r["database"], r["concurrency"], r["requests"], f"{r['p50_ms']:.1f}",
          f"{r['p99_ms']:.1f}", f"{r['recipients_per_s']:,.0f}", f"{r['raw_insert_ms']:.1f}",
          f"{r['p50_ms'] / r['raw_insert_ms']:.1f}x"] for r in rows],
    )  # fmt: skip
    print(f"results: {save('ingest', {'rows': rows, 'table': table})}")


if __name__ == "__main__":
    main()
