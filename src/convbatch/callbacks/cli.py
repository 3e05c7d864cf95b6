"""``convbatch webhooks ...``: dead webhook deliveries, and sending them again."""

from __future__ import annotations

import json
from typing import TypeVar

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from convbatch.admin import with_db
from convbatch.callbacks.attempts import list_deliveries, redrive
from convbatch.callbacks.policy import DEAD
from convbatch.callbacks.schemas import DeliveryView
from convbatch.clock import now_ms
from convbatch.db.engine import Database

webhooks_app = typer.Typer(help="Webhook deliveries.", no_args_is_help=True)
console = Console()
T = TypeVar("T")
PAGE = 500

ProjectOption = typer.Option(..., "--project", help="Project id.")
AppOption = typer.Option(None, "--app", help="Only this app's deliveries.")
DbOption = typer.Option(None, "--db", help="Database URL (env CONVBATCH_DATABASE_URL).")


async def _all_dead(db: Database, project: str, app: str | None) -> list[DeliveryView]:
    found: list[DeliveryView] = []
    after: str | None = None
    while True:
        async with db.read() as conn:
            page, after = await list_deliveries(conn, project, app, DEAD, PAGE, after)
        found.extend(page)
        if after is None:
            return found


@webhooks_app.command("dead")
def dead(
    project: str = ProjectOption, app: str | None = AppOption, db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json", help="One JSON document with every delivery."),
) -> None:  # fmt: skip
    """List deliveries that gave up after retrying, with their last error."""
    found = with_db(db, lambda d: _all_dead(d, project, app))
    if as_json:
        typer.echo(msgspec.json.encode({"deliveries": found}).decode())
        return
    table = Table("id", "app", "trigger", "message", "target", "attempts", "last error")
    for item in found:
        last = item.last_error or (f"HTTP {item.last_status}" if item.last_status else "")
        table.add_row(item.id, item.app_id, item.trigger, item.message_id or "", item.target,
                      str(item.attempts), last)  # fmt: skip
    console.print(table)
    console.print(f"{len(found)} dead deliveries")


@webhooks_app.command("redrive")
def redrive_command(
    project: str = ProjectOption, app: str | None = AppOption, db: str | None = DbOption,
    delivery_id: list[str] = typer.Option(
        None, "--id", help="Only this delivery, DEAD or FAILED (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:  # fmt: skip
    """Queue dead deliveries (or the given ones) again, with a fresh retry window."""

    async def work(d: Database) -> list[str]:
        async with d.transaction() as conn:
            return await redrive(conn, project, app, delivery_id or None, now_ms())

    ids = with_db(db, work)
    if as_json:
        typer.echo(json.dumps({"delivery_ids": ids}))
    else:
        console.print(f"Queued {len(ids)} deliveries again.")
