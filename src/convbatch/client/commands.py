"""The ``send`` and ``status`` commands; ``register`` adds them to the ``convbatch`` app."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from convbatch.client import run as runs
from convbatch.client import send as sending
from convbatch.client import status as statuses
from convbatch.client.http import ApiError, BatchApi, Credentials
from convbatch.client.recipients import CsvProblem, Recipients, read_recipients

err = Console(stderr=True)
BAD_ROWS_SHOWN = 20

UrlOption = typer.Option("http://127.0.0.1:8080", "--url", envvar="CB_URL", help="Server URL.")
ProjectOption = typer.Option(..., "--project", envvar="CB_PROJECT", help="Project id.")
KeyIdOption = typer.Option(..., "--key-id", envvar="CB_KEY_ID", help="Access key id.")
SecretOption = typer.Option(
    ..., "--key-secret", envvar="CB_KEY_SECRET", help="Access key secret.", show_default=False
)
JsonOption = typer.Option(False, "--json", help="Machine-readable output.")


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected KEY=VALUE, got {text!r}", param_hint=option)
    return key, value


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _report_bad_rows(found: Recipients) -> None:
    for row in found.bad[:BAD_ROWS_SHOWN]:
        err.print(f"[yellow]line {row.line}: {row.reason} (not sent)")
    if len(found.bad) > BAD_ROWS_SHOWN:
        err.print(f"[yellow]... and {len(found.bad) - BAD_ROWS_SHOWN} more bad rows")


def send(
    csv_file: Path = typer.Option(..., "--csv", exists=True, dir_okay=False, help="Recipients."),
    app_id: str = typer.Option(..., "--app", envvar="CB_APP", help="App id."),
    text: str = typer.Option(..., help="Message text; ${column} takes the recipient's value."),
    channel: str = typer.Option("SMS", help="Channel of every identity."),
    send_after: str | None = typer.Option(None, help="RFC 3339 time to send at."),
    metadata: list[str] = typer.Option([], help="Batch metadata KEY=VALUE (repeatable)."),
    identity_column: str | None = typer.Option(None, help="Column with the identities."),
    concurrency: int = typer.Option(4, min=1, max=32, help="Batches in flight at once."),
    chunk_size: int = typer.Option(runs.MAX_CHUNK, min=1, max=runs.MAX_CHUNK, hidden=True),
    run_file: Path | None = typer.Option(None, help="Where accepted chunks are remembered."),
    url: str = UrlOption, project: str = ProjectOption, key_id: str = KeyIdOption,
    key_secret: str = SecretOption, as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Send a message to every recipient of a CSV file, in batches of 1000. Running the same
    command again resumes an interrupted run without sending any batch twice."""
    content = csv_file.read_bytes()
    try:
        found = read_recipients(content.decode("utf-8-sig"), identity_column, text)
    except (CsvProblem, UnicodeDecodeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--csv") from exc
    _report_bad_rows(found)
    if not found.good:
        err.print("[red]No recipient to send to.")
        raise typer.Exit(1)
    options = runs.Options(
        url, project, app_id, text, channel.upper(), send_after,
        tuple(_pair(m, "--metadata") for m in metadata), chunk_size,
    )  # fmt: skip
    run = runs.run_id(content, options)
    file = runs.RunFile.load(run_file or runs.default_run_file(csv_file), run)
    chunks = runs.split(found.good, chunk_size)
    credentials = Credentials(url, project, key_id, key_secret)
    try:
        outcome = asyncio.run(_send(credentials, options, file, chunks, concurrency))
    except Exception as exc:  # a TaskGroup wraps the error that stopped it in a group
        cause = _unwrap(exc)
        if isinstance(cause, OSError):
            cause = ApiError(0, f"cannot write the run file {file.path} ({cause}); use --run-file")
        if not isinstance(cause, ApiError):
            raise
        err.print(f"[red]Stopped: {cause}. Run the same command again to resume.")
        raise typer.Exit(1) from cause
    _summary(run, found, chunks, outcome, as_json)


async def _send(
    credentials: Credentials, options: runs.Options, file: runs.RunFile,
    chunks: list[runs.Chunk], concurrency: int,
) -> sending.Outcome:  # fmt: skip
    total = sum(len(c.recipients) for c in chunks)
    columns = (TextColumn("recipients accepted"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("send", total=total)
        async with BatchApi(credentials) as api:
            return await sending.send_chunks(
                api, options, file, chunks, concurrency,
                lambda n: progress.advance(task, n),
            )  # fmt: skip


def _summary(
    run: str, found: Recipients, chunks: list[runs.Chunk], outcome: sending.Outcome,
    as_json: bool,
) -> None:  # fmt: skip
    batches = [outcome.batches[c.number] for c in chunks]
    summary: dict[str, Any] = {
        "run_id": run,
        "batches": batches,
        "recipients": sum(len(c.recipients) for c in chunks),
        "resumed_batches": sorted(outcome.batches[n] for n in outcome.earlier),
        "bad_rows": [{"line": b.line, "reason": b.reason} for b in found.bad],
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for chunk, batch_id in zip(chunks, batches, strict=True):
        earlier = " (accepted by an earlier run)" if chunk.number in outcome.earlier else ""
        typer.echo(f"{batch_id}  {len(chunk.recipients)} recipients{earlier}")
    typer.echo(
        f"Run {run}: {summary['recipients']} recipients in {len(batches)} batches; "
        f"{len(found.bad)} bad rows not sent."
    )


def status(
    batch_ids: list[str] = typer.Argument(None, help="Batch ids."),
    metadata: str | None = typer.Option(None, help="Batches tagged KEY=VALUE."),
    watch: bool = typer.Option(False, "--watch", help="Redraw until every batch is PROCESSED."),
    interval: float = typer.Option(1.0, min=0.1, help="Seconds between redraws with --watch."),
    url: str = UrlOption, project: str = ProjectOption, key_id: str = KeyIdOption,
    key_secret: str = SecretOption, as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Counts of batches as progress bars (by id, or every batch tagged with --metadata)."""
    ids = list(batch_ids or [])
    tag = _pair(metadata, "--metadata") if metadata else None
    if not ids and tag is None:
        raise typer.BadParameter("name batch ids or --metadata KEY=VALUE")
    credentials = Credentials(url, project, key_id, key_secret)
    console = Console(file=sys.stderr if as_json else sys.stdout)

    async def work() -> list[dict[str, Any]]:
        async with BatchApi(credentials) as api:
            return await statuses.show(api, ids, tag, watch, interval, console)

    try:
        found = asyncio.run(work())
    except ApiError as exc:
        err.print(f"[red]{exc}")
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps(found))


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("status")(status)
