"""Logs of a real server with ``CONVBATCH_LOG_FORMAT=json``: every line is one JSON object, each
request writes exactly one line with its request id (and project and batch ids where known), and
no token, key secret or header value ever appears."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from convbatch.logs.setup import REDACTED, redact
from tests.e2e.ledger import batch_body, recipients
from tests.e2e.processes import Client, Cluster, create_tenant


def json_lines(path: Path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines()
             if line.strip() and not line.startswith("--- start")]  # fmt: skip
    return [json.loads(line) for line in lines]


async def test_json_logs_one_line_per_request_without_secrets(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'logs.db'}"
    tenant = create_tenant(db_url)
    with Cluster.running(db_url, tmp_path, log_format="json", log_level="info") as cluster:
        server = cluster.server(engine=True)
        async with Client(server.url, tenant) as client:
            app_id = await client.create_app()
            reply = await client.http.post(
                client._url("/messages"), json=batch_body(app_id, recipients("+1888", 3)),
                headers={**client._auth, "X-Request-Id": "req-42", "Cookie": "session=abc"},
            )  # fmt: skip
            assert reply.status_code == 200 and reply.headers["x-request-id"] == "req-42"
            batch_id = reply.json()["batch_id"]
            await client.status(batch_id)
        async with httpx.AsyncClient(base_url=server.url) as http:
            unknown = await http.get("/no/such/thing", headers={"X-Request-Id": "bad id!"})
            assert unknown.headers["x-request-id"] != "bad id!"
        time.sleep(0.5)
        cluster.stop_all()
        log_path = server.log_path
        token, secret = client.token, tenant.key_secret
    text = log_path.read_text()
    assert token not in text and secret not in text and "session=abc" not in text
    lines = json_lines(log_path)
    requests = [line for line in lines if line["event"] == "request"]
    sent = [line for line in requests if line.get("request_id") == "req-42"]
    assert len(sent) == 1
    [line] = sent
    assert line["level"] == "info" and line["status"] == 200 and line["method"] == "POST"
    assert line["route"] == "/v1/projects/{project_id}/messages"
    assert line["project_id"] == tenant.project_id and line["batch_id"] == batch_id
    status_lines = [r for r in requests if r["path"].endswith(f"/messages/{batch_id}")]
    assert len(status_lines) == 1 and status_lines[0]["batch_id"] == batch_id
    [missing] = [r for r in requests if r["path"] == "/no/such/thing"]
    assert missing["status"] == 404 and missing["route"] == "unmatched"
    assert len(missing["request_id"]) == 16
    assert len({r["request_id"] for r in requests}) == len(requests)


def test_fields_naming_credentials_are_redacted() -> None:
    event = {"event": "x", "key_secret": "s", "Authorization": "Bearer t", "headers": {"a": 1},
             "access_token": "t", "count": 3}  # fmt: skip
    assert redact(None, "info", event) == {
        "event": "x", "key_secret": REDACTED, "Authorization": REDACTED, "headers": REDACTED,
        "access_token": REDACTED, "count": 3,
    }  # fmt: skip
