"""Rendering end to end: hypothesis-generated messages (placeholders in every kind of string
field, placeholder-like keys, numbers) and parameter values (including ones that contain
``${...}``) go through the API and the engine of a real server; what the sandbox channel
received must equal the reference rendering: each placeholder filled exactly once, values never
scanned again, keys and non-string values untouched, and a recipient missing a value failed
alone. The unit properties of the renderer itself are in tests/unit/test_render.py."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.e2e.ledger import recipients
from tests.e2e.processes import Cluster, create_tenant
from tests.unit.test_render import KEYS, TEXTS, VALUES, names_in, reference_render

COORDINATE = st.floats(min_value=-90, max_value=90, allow_nan=False)
CHOICE_MESSAGES = st.builds(
    lambda text, reply, postback, title, url, lat, lon, place: {"choice_message": {
        "text_message": {"text": text},
        "choices": [
            {"text_message": {"text": reply}, "postback_data": postback},
            {"url_message": {"title": title, "url": url}},
            {"location_message": {"coordinates": {"latitude": lat, "longitude": lon},
                                  "title": place}},
        ]}},
    TEXTS, TEXTS, TEXTS, TEXTS, TEXTS, COORDINATE, COORDINATE, TEXTS,
)  # fmt: skip
TEMPLATE_MESSAGES = st.builds(
    lambda tid, params: {"template_message": {"omni_template": {
        "template_id": tid, "version": "1", "parameters": params}}},
    TEXTS, st.dictionaries(KEYS, TEXTS, max_size=3),
)  # fmt: skip
MESSAGES = st.one_of(
    TEXTS.map(lambda text: {"text_message": {"text": text}}), CHOICE_MESSAGES, TEMPLATE_MESSAGES
)


class Sandbox:
    """A running embedded server on SQLite, its tenant's token and an app."""

    def __init__(self, cluster: Cluster, base_url: str, project: str, token: str) -> None:
        self.db_path = cluster.database_url.removeprefix("sqlite:///")
        self.http = httpx.Client(base_url=f"{base_url}/v1/projects/{project}", timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        self.app_id = ""

    def send(self, body: dict[str, Any]) -> str:
        reply = self.http.post("/messages", json={"app_id": self.app_id, **body})
        assert reply.status_code == 200, reply.text
        return str(reply.json()["batch_id"])

    def wait_processed(self, batch_id: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.http.get(f"/messages/{batch_id}").json()["status"] != "PROCESSED":
            assert time.monotonic() < deadline, f"batch {batch_id} not processed"
            time.sleep(0.05)

    def outcome(self, batch_id: str) -> dict[int, Any]:
        """Per recipient index: the body the channel received, or the failure reason."""
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(
                "SELECT m.idx, m.state, m.reason_code, m.reason_description, i.body, "
                "i.deliveries FROM messages m LEFT JOIN sandbox_inbox i ON i.message_id = m.id "
                "WHERE m.batch_id = ?", (batch_id,),
            ).fetchall()  # fmt: skip
        out: dict[int, Any] = {}
        for idx, state, code, description, body, deliveries in rows:
            if state == "FAILED":
                out[idx] = (code, description)
            else:
                assert deliveries == 1
                out[idx] = json.loads(body)
        return out


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    workdir = tmp_path_factory.mktemp("render")
    db_url = f"sqlite:///{workdir / 'render.db'}"
    tenant = create_tenant(db_url)
    with Cluster.running(db_url, workdir) as cluster:
        server = cluster.server(engine=True)
        token = httpx.post(
            f"{server.url}/oauth2/token", data={"grant_type": "client_credentials"},
            auth=(tenant.key_id, tenant.key_secret),
        ).json()["access_token"]  # fmt: skip
        box = Sandbox(cluster, server.url, tenant.project_id, token)
        channel = {"channel": "SMS", "static_bearer": {"claimed_identity": "x", "token": "y"}}
        apps = f"{server.url}/conversation/v1/projects/{tenant.project_id}/apps"
        reply = box.http.post(
            apps, json={"display_name": "render", "channel_credentials": [channel]}
        )
        assert reply.status_code == 200, reply.text
        box.app_id = reply.json()["id"]
        yield box
        box.http.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_messages_render_once_through_the_engine(sandbox: Sandbox, data) -> None:
    message = data.draw(MESSAGES)
    names = sorted(names_in(message))
    event(f"placeholders: {min(len(names), 3)}")
    values = {name: data.draw(VALUES) for name in names}
    from_defaults = data.draw(st.sets(st.sampled_from(names))) if names else set()
    defaults = {k: v for k, v in values.items() if k in from_defaults}
    own = {k: v for k, v in values.items() if k not in from_defaults}
    people = recipients("+5", 3)
    people[0]["parameters"] = values  # every value its own, defaults unused
    people[1]["parameters"] = own  # the rest from the defaults
    people[2]["parameters"] = dict(list(own.items())[1:])  # one short when any is its own
    body = {"message": message, "recipient_and_params": people}
    if defaults:
        body["parameter_defaults"] = defaults

    batch_id = sandbox.send(body)
    sandbox.wait_processed(batch_id)
    got = sandbox.outcome(batch_id)
    for idx, person in enumerate(people):
        expected = reference_render(message, person["parameters"], defaults)
        if isinstance(expected, list):  # missing values: fails alone, naming them
            assert got[idx][0] == "BAD_REQUEST"
            assert all(name in got[idx][1] for name in expected)
        else:
            assert got[idx] == expected
