"""The ``convbatch`` command: run the server and administer projects, keys and apps."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

import structlog
import typer
from rich.console import Console

from convbatch.admin import with_db
from convbatch.apps.repository import insert_app
from convbatch.bootstrap import SANDBOX_CHANNELS, Tenant, bootstrap_if_empty, sandbox_app
from convbatch.callbacks.cli import webhooks_app
from convbatch.client.commands import register as register_client_commands
from convbatch.clock import now_ms
from convbatch.config import Settings
from convbatch.db.engine import Database
from convbatch.identity.repository import (
    create_key,
    create_project,
    list_keys,
    project_exists,
    revoke_keys,
)
from convbatch.metrics.processes import prepare_multiprocess_dir, serve_worker_metrics
from convbatch.runtime import tune_gc

app = typer.Typer(help="Self-hosted Sinch Conversation Batch API.", no_args_is_help=True)
db_app = typer.Typer(help="Database administration.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects.", no_args_is_help=True)
keys_app = typer.Typer(help="Access keys.", no_args_is_help=True)
apps_app = typer.Typer(help="Conversation apps.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(projects_app, name="projects")
app.add_typer(keys_app, name="keys")
app.add_typer(apps_app, name="apps")
app.add_typer(webhooks_app, name="webhooks")
sandbox_cli = typer.Typer(help="The sandbox channel.", no_args_is_help=True)
app.add_typer(sandbox_cli, name="sandbox")
register_client_commands(app)
console = Console()
T = TypeVar("T")

DbOption = typer.Option(None, "--db", help="Database URL (env CONVBATCH_DATABASE_URL).")
JsonOption = typer.Option(False, "--json", help="Machine-readable output.")


def _now_ms() -> int:
    return now_ms()


def _emit(data: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(data))
        return
    console.print(f"[bold]{title}[/bold]")
    for key, value in data.items():
        console.print(f"  {key}: {value}")


def print_bootstrap(tenant: Tenant, base_url: str) -> None:
    """What a newcomer needs on first start: ids, the secret (shown only now) and curl lines."""
    console.print("[bold green]First start: created a project, an access key and a sandbox app.")
    console.print("The key secret is shown only this once. Paste this into your shell:\n")
    typer.echo(
        f"export CB_URL={base_url} CB_PROJECT={tenant.project_id} CB_KEY_ID={tenant.key_id} "
        f"CB_KEY_SECRET={tenant.key_secret} CB_APP={tenant.app_id}\n"
    )
    typer.echo("Then get a token and send a batch:\n")
    typer.echo(
        'CB_TOKEN=$(curl -s -u "$CB_KEY_ID:$CB_KEY_SECRET" -d grant_type=client_credentials '
        '"$CB_URL/oauth2/token" | python3 -c \'import json,sys; '
        'print(json.load(sys.stdin)["access_token"])\')'
    )
    typer.echo(
        'curl -s -H "Authorization: Bearer $CB_TOKEN" -H "Content-Type: application/json" '
        '"$CB_URL/v1/projects/$CB_PROJECT/messages" -d "{\\"app_id\\": \\"$CB_APP\\", '
        '\\"message\\": {\\"text_message\\": {\\"text\\": \\"Hello \\${name}\\"}}, '
        '\\"recipient_and_params\\": [{\\"recipient\\": {\\"identified_by\\": '
        '{\\"channel_identities\\": [{\\"channel\\": \\"SMS\\", '
        '\\"identity\\": \\"+15550000\\"}]}}, '
        '\\"parameters\\": {\\"name\\": \\"Ada\\"}}]}"\n'
    )


def _configure_logging(settings: Settings) -> None:
    from convbatch.logs.setup import configure_logging

    try:
        configure_logging(settings.log_format, settings.log_level)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="CONVBATCH_LOG_FORMAT") from exc


def print_outbound_policy(settings: Settings) -> None:
    from convbatch.net.policy import current_policy

    opened = current_policy().describe()
    if settings.log_format == "json":  # every line of the output is a JSON log line
        structlog.get_logger("convbatch.cli").info("outbound policy", opened=opened)
        return
    console.print(
        f"Tenant URLs (webhooks, callback_url, drivers) may reach public addresses and: {opened} "
        "(CONVBATCH_OUTBOUND_ALLOW)",
        highlight=False,
    )


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default 8080)."),
    db: str | None = DbOption,
    no_engine: bool = typer.Option(False, "--no-engine", help="Serve the API only."),
    workers: int = typer.Option(1, help="API processes (only with --no-engine)."),
) -> None:
    """Run the API server and, unless --no-engine, the dispatch engine in the same process."""
    import os

    import uvicorn

    from convbatch.app import create_app

    settings = Settings.from_env(host=host, port=port, database_url=db)
    _configure_logging(settings)
    tenant = with_db(settings.database_url, lambda d: bootstrap_if_empty(d, _now_ms()))
    if tenant is not None:
        print_bootstrap(tenant, settings.base_url)
    print_outbound_policy(settings)
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "log_config": None,  # logging is set up by _configure_logging (and in each worker)
    }
    if workers > 1:
        if not no_engine:
            raise typer.BadParameter(
                "several API processes need --no-engine", param_hint="--workers"
            )
        # Worker processes rebuild the app from the environment.
        os.environ["CONVBATCH_DATABASE_URL"] = settings.database_url
        prepare_multiprocess_dir()  # their metrics add up through files in one directory
        uvicorn.run("convbatch.app:api_only_from_env", factory=True, workers=workers, **common)
        return
    application = create_app(settings, engine=not no_engine)
    tune_gc()
    uvicorn.run(application, **common)


@app.command()
def worker(
    db: str | None = DbOption,
    nice: int = typer.Option(
        0, min=0, max=19,
        help="Lower this process's CPU priority by N, so API processes on the same host "
        "answer first when the CPU is busy.",
    ),
    metrics_port: int = typer.Option(
        0, envvar="CONVBATCH_METRICS_PORT", help="Serve this worker's /metrics on this port.",
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Interface of --metrics-port."),
) -> None:  # fmt: skip
    """Run the dispatch engine alone (no HTTP); any number may share a PostgreSQL database."""
    import os

    from convbatch.engine.runner import run_worker

    if nice:
        os.nice(nice)
    if metrics_port:
        serve_worker_metrics(metrics_port, metrics_host)
    tune_gc()
    settings = Settings.from_env(database_url=db)
    _configure_logging(settings)
    asyncio.run(run_worker(settings))


@db_app.command("upgrade")
def db_upgrade(db: str | None = DbOption) -> None:
    """Create or migrate the schema to the latest version."""

    async def done(_db: Database) -> None:
        return None

    with_db(db, done)
    console.print("Database is up to date.")


@projects_app.command("create")
def projects_create(
    name: str = typer.Option("", help="Display name."), db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Create a project."""

    async def work(d: Database) -> str:
        async with d.transaction() as conn:
            return await create_project(conn, _now_ms(), name)

    _emit({"project_id": with_db(db, work)}, as_json, "Project created")


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(..., help="Project id."), db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Create an access key; its secret is printed only now."""

    async def work(d: Database) -> dict[str, str]:
        async with d.transaction() as conn:
            if not await project_exists(conn, project):
                raise typer.BadParameter(
                    f"project {project} does not exist", param_hint="--project"
                )
            key = await create_key(conn, project, _now_ms())
        return {"project_id": project, "key_id": key.key_id, "key_secret": key.key_secret}

    _emit(with_db(db, work), as_json, "Access key created (the secret is not shown again)")


async def _require_project(conn: Any, project: str) -> None:
    if not await project_exists(conn, project):
        raise typer.BadParameter(f"project {project} does not exist", param_hint="--project")


@keys_app.command("list")
def keys_list(
    project: str = typer.Option(..., help="Project id."), db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """List the project's access keys (ids and dates; secrets are never shown)."""

    async def work(d: Database) -> list[dict[str, Any]]:
        async with d.read() as conn:
            await _require_project(conn, project)
            keys = await list_keys(conn, project)
        return [{"key_id": k.key_id, "created_at": k.created_at, "revoked_at": k.revoked_at}
                for k in keys]  # fmt: skip

    found = with_db(db, work)
    if as_json:
        typer.echo(json.dumps(found))
        return
    for key in found:
        state = "revoked" if key["revoked_at"] else "live"
        console.print(f"{key['key_id']}  {state}")


@keys_app.command("revoke")
def keys_revoke(
    project: str = typer.Option(..., help="Project id."),
    key: str = typer.Option(..., "--key", help="Key id to revoke."),
    db: str | None = DbOption, as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Revoke a key: it issues no more tokens, and its tokens stop working within seconds."""

    async def work(d: Database) -> list[str]:
        async with d.transaction() as conn:
            await _require_project(conn, project)
            return await revoke_keys(conn, project, [key], _now_ms())

    revoked = with_db(db, work)
    if not revoked:
        raise typer.BadParameter(f"no live key {key} in project {project}", param_hint="--key")
    _emit({"project_id": project, "revoked": revoked}, as_json, "Key revoked")


@keys_app.command("rotate")
def keys_rotate(
    project: str = typer.Option(..., help="Project id."),
    key: str | None = typer.Option(None, "--key", help="Key id to replace (default: all)."),
    db: str | None = DbOption, as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Create a new key and revoke the old one (or every live key of the project) at once."""

    async def work(d: Database) -> dict[str, Any]:
        async with d.transaction() as conn:
            await _require_project(conn, project)
            revoked = await revoke_keys(conn, project, None if key is None else [key], _now_ms())
            if key is not None and not revoked:
                raise typer.BadParameter(
                    f"no live key {key} in project {project}", param_hint="--key"
                )
            new = await create_key(conn, project, _now_ms())
        return {"project_id": project, "key_id": new.key_id, "key_secret": new.key_secret,
                "revoked": revoked}  # fmt: skip

    _emit(with_db(db, work), as_json, "Key rotated (the new secret is not shown again)")


@apps_app.command("create")
def apps_create(
    project: str = typer.Option(..., help="Project id."),
    name: str = typer.Option("App", help="Display name."),
    channel: list[str] = typer.Option(list(SANDBOX_CHANNELS), help="Channel (repeatable)."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Create an app whose channels use the sandbox driver."""

    async def work(d: Database) -> dict[str, Any]:
        new_app = sandbox_app(name, tuple(c.upper() for c in channel))
        async with d.transaction() as conn:
            if not await project_exists(conn, project):
                raise typer.BadParameter(
                    f"project {project} does not exist", param_hint="--project"
                )
            await insert_app(conn, project, new_app, _now_ms())
        return {"project_id": project, "app_id": new_app.id, "channels": new_app.channels()}

    _emit(with_db(db, work), as_json, "App created")


@sandbox_cli.command("inbox")
def sandbox_inbox(
    project: str = typer.Option(..., help="Project id."),
    app_id: str = typer.Option(..., "--app", help="App id."),
    batch: str | None = typer.Option(None, help="Only this batch."),
    limit: int = typer.Option(20, help="How many messages, oldest first."),
    db: str | None = DbOption,
    as_json: bool = JsonOption,
) -> None:
    """Show what the sandbox channel of an app received."""
    import msgspec

    from convbatch.apps.repository import get_app
    from convbatch.channels.sandbox_inbox import SandboxMessages, list_inbox

    async def work(d: Database) -> SandboxMessages:
        async with d.read() as conn:
            if await get_app(conn, project, app_id) is None:
                raise typer.BadParameter(
                    f"app {app_id} not in project {project}", param_hint="--app"
                )
            return await list_inbox(conn, app_id, limit, None, batch)

    found = with_db(db, work)
    if as_json:
        typer.echo(msgspec.json.encode(found).decode())
        return
    for m in found.messages:
        text = msgspec.json.encode(m.message).decode()
        console.print(f"{m.received_time} {m.channel} {m.identity} x{m.deliveries} {text[:80]}")


def main() -> None:
    app()
