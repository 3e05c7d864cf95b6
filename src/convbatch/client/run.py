"""One run of ``convbatch send``: its id, its chunks and the request body of each, and the run
file that remembers which chunks the server accepted.

The run id is a digest of the file's content and of every option that shapes the requests, so
running the same command again finds the same run. Every chunk is tagged with the run id and
its number in ``batch_metadata``; the server's list by metadata is the record that survives a
kill between the server accepting a chunk and the run file saying so."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convbatch.client.recipients import Recipient

RUN_KEY = "convbatch_run"
CHUNK_KEY = "convbatch_chunk"
MAX_CHUNK = 1000  # recipients per batch, the Batch API's limit


@dataclass(frozen=True)
class Options:
    """Everything besides the recipients that goes into the requests."""

    url: str
    project: str
    app_id: str
    text: str
    channel: str = "SMS"
    send_after: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    chunk_size: int = MAX_CHUNK


def run_id(content: bytes, options: Options) -> str:
    digest = hashlib.sha256(content)
    described = {**options.__dict__, "metadata": sorted(options.metadata)}
    digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class Chunk:
    number: int  # from 1, in file order
    recipients: list[Recipient]


def split(recipients: list[Recipient], size: int) -> list[Chunk]:
    return [
        Chunk(n, recipients[start : start + size])
        for n, start in enumerate(range(0, len(recipients), size), start=1)
    ]


def request_body(options: Options, run: str, chunk: Chunk) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_id": options.app_id,
        "message": {"text_message": {"text": options.text}},
        "recipient_and_params": [
            {
                "recipient": {
                    "identified_by": {
                        "channel_identities": [{"channel": options.channel, "identity": r.identity}]
                    }
                },
                "parameters": r.parameters,
            }
            for r in chunk.recipients
        ],
        "batch_metadata": {**dict(options.metadata), RUN_KEY: run, CHUNK_KEY: str(chunk.number)},
    }
    if options.send_after:
        body["send_after"] = options.send_after
    return body


def accepted_on_server(statuses: list[dict[str, Any]], run: str) -> dict[int, str]:
    """Chunk number → batch id, from the server's batches tagged with this run."""
    found: dict[int, str] = {}
    for status in statuses:
        meta = status.get("meta_data") or {}
        if meta.get(RUN_KEY) == run and str(meta.get(CHUNK_KEY, "")).isdigit():
            found.setdefault(int(meta[CHUNK_KEY]), str(status["batch_id"]))
    return found


@dataclass
class RunFile:
    """The chunks this machine saw accepted, kept beside the CSV (a cache; the server decides)."""

    path: Path
    run: str
    chunks: dict[int, str] = field(default_factory=dict)
    resumed: bool = False  # the file was there for this run: an earlier attempt started

    @classmethod
    def load(cls, path: Path, run: str) -> RunFile:
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls(path, run)
        if not isinstance(saved, dict) or saved.get("run_id") != run:
            return cls(path, run)  # another file or other options: another run
        chunks = saved.get("chunks") or {}
        known = {int(n): str(b) for n, b in chunks.items() if str(n).isdigit()}
        return cls(path, run, known, resumed=True)

    def accept(self, number: int, batch_id: str) -> None:
        self.chunks[number] = batch_id
        self.save()

    def save(self) -> None:
        data = {"run_id": self.run, "chunks": {str(n): b for n, b in sorted(self.chunks.items())}}
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(data, indent=1))
        os.replace(partial, self.path)  # never a half-written file after a kill


def default_run_file(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.name + ".run.json")
