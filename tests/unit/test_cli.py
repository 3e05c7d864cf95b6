"""The admin commands, run as a user runs them, against a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys


def cli(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "convbatch", *args, "--json"],
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_projects_keys_and_apps(tmp_path):
    db = f"sqlite:///{tmp_path / 'admin.db'}"
    project = cli("projects", "create", "--name", "Acme", "--db", db)["project_id"]
    key = cli("keys", "create", "--project", project, "--db", db)
    assert key["project_id"] == project and len(key["key_secret"]) > 30
    app = cli("apps", "create", "--project", project, "--channel", "SMS", "--channel", "rcs",
              "--db", db)  # fmt: skip
    assert app["channels"] == ["SMS", "RCS"] and len(app["app_id"]) == 26
    refused = subprocess.run(
        [sys.executable, "-m", "convbatch", "keys", "create", "--project", "nope", "--db", db],
        capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0 and "does not exist" in refused.stderr
