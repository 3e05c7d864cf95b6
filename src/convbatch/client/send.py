"""Sends a run's chunks with bounded concurrency, skipping those the server already has.

Before anything is sent, the run is looked up on the server by its metadata tag; a chunk whose
request failed in a way that may have reached the server (a connection error, a timeout, a 5xx)
is looked up again before it is sent again. So a chunk is never sent twice, whether the
previous attempt died with the process or with the connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from convbatch.client.http import ApiError, BatchApi
from convbatch.client.run import (
    RUN_KEY,
    Chunk,
    Options,
    RunFile,
    accepted_on_server,
    request_body,
)

MAX_ATTEMPTS = 5
RETRY_BASE_S = 0.5
# On a resumed run, a chunk request of the interrupted attempt may still be being stored by
# the server; look again after this long before deciding that a chunk is missing.
RESUME_GRACE_S = 2.0

Progress = Callable[[int], None]  # called with the recipients of each chunk accepted


@dataclass
class Outcome:
    batches: dict[int, str] = field(default_factory=dict)  # chunk number → batch id
    earlier: set[int] = field(default_factory=set)  # chunks accepted by an earlier run


async def lookup(api: BatchApi, run: str) -> dict[int, str]:
    return accepted_on_server(await api.by_metadata(RUN_KEY, run), run)


async def send_chunks(
    api: BatchApi, options: Options, run_file: RunFile, chunks: list[Chunk],
    concurrency: int, progress: Progress,
) -> Outcome:  # fmt: skip
    """Send every chunk not yet accepted; raises the first error that a retry cannot mend."""
    outcome = Outcome()
    known = {**run_file.chunks, **await lookup(api, run_file.run)}
    if run_file.resumed or known:
        await asyncio.sleep(RESUME_GRACE_S)
        known.update(await lookup(api, run_file.run))
    run_file.save()  # before the first send, so a later attempt knows this one started
    for chunk in chunks:
        if chunk.number in known:
            outcome.batches[chunk.number] = known[chunk.number]
            outcome.earlier.add(chunk.number)
            progress(len(chunk.recipients))
    gate = asyncio.Semaphore(concurrency)

    async def one(chunk: Chunk) -> None:
        async with gate:
            batch_id = await _send_once(api, options, run_file.run, chunk)
        run_file.accept(chunk.number, batch_id)
        outcome.batches[chunk.number] = batch_id
        progress(len(chunk.recipients))

    async with asyncio.TaskGroup() as group:
        for chunk in chunks:
            if chunk.number not in known:
                group.create_task(one(chunk))
    return outcome


async def _send_once(api: BatchApi, options: Options, run: str, chunk: Chunk) -> str:
    body = request_body(options, run, chunk)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return str((await api.send(body))["batch_id"])
        except ApiError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS:
                raise ApiError(exc.status, f"chunk {chunk.number}: {exc.message}") from exc
        await asyncio.sleep(RETRY_BASE_S * 2 ** (attempt - 1))
        # The failed attempt may have been accepted all the same: ask before sending again.
        with_server = await _lookup_quietly(api, run)
        if chunk.number in with_server:
            return with_server[chunk.number]
    raise AssertionError("unreachable")


async def _lookup_quietly(api: BatchApi, run: str) -> dict[int, str]:
    try:
        return await lookup(api, run)
    except ApiError as exc:
        if not exc.retryable:
            raise
        # Unknown is not "absent": wait for the server before deciding to send again.
        await asyncio.sleep(RETRY_BASE_S)
        return await lookup(api, run)
