"""``convbatch send`` and ``convbatch status`` as a person runs them: real CLI processes
against a real server, checked through the HTTP API (batches by metadata, the sandbox inbox)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.e2e.processes import CLI, Client, Cluster, Server, Tenant, create_tenant

SETTLE_SECONDS = 120
BAD_LINES = {12: "+1555", 600: "", 1700: "dup"}  # line → what goes wrong there


def write_csv(path: Path, rows: int, prefix: str) -> set[str]:
    """``rows`` data lines with three bad ones (too few fields, empty identity, a duplicate);
    returns the identities of the good rows."""
    lines, good = ["phone,name,code"], set()
    for line in range(2, rows + 2):
        identity = f"+{prefix}{line:07d}"
        if BAD_LINES.get(line) == "+1555":
            lines.append(f"{identity},only-two-fields")
        elif BAD_LINES.get(line) == "":
            lines.append(f",Nobody,{line}")
        elif BAD_LINES.get(line) == "dup":
            lines.append(f"+{prefix}{2:07d},Again,{line}")
        else:
            lines.append(f"{identity},Person {line},{line}")
            good.add(identity)
    path.write_text("\n".join(lines) + "\n")
    return good


def cli_env(server: Server, tenant: Tenant, app_id: str) -> dict[str, str]:
    return {**server.env, "CB_URL": server.url, "CB_PROJECT": tenant.project_id,
            "CB_KEY_ID": tenant.key_id, "CB_KEY_SECRET": tenant.key_secret,
            "CB_APP": app_id}  # fmt: skip


def send_args(csv: Path, tag: str, *extra: str) -> list[str]:
    return [*CLI, "send", "--csv", str(csv), "--text", "Hi ${name}, code ${code}",
            "--metadata", f"test={tag}", "--json", *extra]  # fmt: skip


async def tagged(client: Client, tag: str) -> list[dict[str, Any]]:
    reply = await client.http.get(
        client._url("/messages"), params={"metadataKey": "test", "metadataValue": tag},
        headers=client._auth,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return list(reply.json())


async def inbox(client: Client, app_id: str) -> list[dict[str, Any]]:
    found, token = [], ""
    path = f"/conversation/v1/projects/{client.tenant.project_id}/apps/{app_id}/sandbox/messages"
    while True:
        params = {"page_size": "1000", **({"page_token": token} if token else {})}
        reply = await client.http.get(path, params=params, headers=client._auth)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        found += page["messages"]
        token = page["next_page_token"]
        if not token:
            return found


async def wait_processed(client: Client, tag: str, batches: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        statuses = await tagged(client, tag)
        if len(statuses) == batches and all(s["status"] == "PROCESSED" for s in statuses):
            return statuses
        assert time.monotonic() < deadline, statuses
        await asyncio.sleep(0.2)


def assert_inbox_exactly(messages: list[dict[str, Any]], identities: set[str]) -> None:
    seen = Counter(m["identity"] for m in messages)
    assert set(seen) == identities
    assert max(seen.values()) == 1, [i for i, n in seen.items() if n > 1][:5]
    assert all(m["deliveries"] == 1 for m in messages)


async def test_send_csv_in_three_batches_with_bad_rows_reported(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant = create_tenant(db_url)
    csv = tmp_path / "people.csv"
    good = write_csv(csv, 2500, "1200")
    with Cluster.running(db_url, tmp_path) as cluster:
        server = cluster.server(engine=True)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            done = subprocess.run(send_args(csv, "three"), env=cli_env(server, tenant, app_id),
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
            summary = json.loads(done.stdout)
            assert len(summary["batches"]) == 3 and summary["recipients"] == len(good) == 2497
            assert [b["line"] for b in summary["bad_rows"]] == sorted(BAD_LINES)
            for line in BAD_LINES:
                assert f"line {line}:" in done.stderr
            statuses = await wait_processed(client, "three", 3)
            assert {s["batch_id"] for s in statuses} == set(summary["batches"])
            assert sorted(s["counts"]["total"] for s in statuses) == [497, 1000, 1000]
            messages = await inbox(client, app_id)
            assert_inbox_exactly(messages, good)
            first = next(m for m in messages if m["identity"] == "+12000000003")
            assert first["message"]["text_message"]["text"] == "Hi Person 3, code 3"

            watched = subprocess.run(
                [*CLI, "status", "--metadata", "test=three", "--watch", "--interval", "0.2"],
                env=cli_env(server, tenant, app_id), capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert watched.returncode == 0, watched.stderr
            assert watched.stdout.count("PROCESSED") == 3
            for batch_id in summary["batches"]:
                assert batch_id in watched.stdout

            refused = subprocess.run([*send_args(csv, "refused"), "--app", "01NOSUCHAPP"],
                                     env=cli_env(server, tenant, app_id), capture_output=True,
                                     text=True, timeout=120)  # fmt: skip
            assert refused.returncode == 1 and "Stopped: HTTP 400" in refused.stderr
            assert await tagged(client, "refused") == []


async def test_killed_run_resumes_without_sending_a_chunk_twice(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    tenant = create_tenant(db_url)
    csv = tmp_path / "people.csv"
    good = write_csv(csv, 10_000, "1300")
    with Cluster.running(db_url, tmp_path) as cluster:
        server = cluster.server(engine=True)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            env = cli_env(server, tenant, app_id)
            first = subprocess.Popen(send_args(csv, "kill", "--concurrency", "1"), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
            deadline = time.monotonic() + 60
            while not await tagged(client, "kill"):
                assert first.poll() is None and time.monotonic() < deadline, "no chunk accepted"
                await asyncio.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
            before = await tagged(client, "kill")
            assert 1 <= len(before) < 10, "the kill landed after the run had finished"
            # Without its run file, only the server can tell which chunks it already has.
            Path(f"{csv}.run.json").unlink(missing_ok=True)
            done = subprocess.run(send_args(csv, "kill"), env=env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, done.stderr
            summary = json.loads(done.stdout)
            assert len(summary["batches"]) == 10
            assert {b["batch_id"] for b in before} <= set(summary["resumed_batches"])
            await wait_processed(client, "kill", 10)
            assert_inbox_exactly(await inbox(client, app_id), good)
