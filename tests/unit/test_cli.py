"""The admin commands, run as a user runs them, against a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


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


def test_worker_lowers_its_own_priority_when_asked(tmp_path):
    db = f"sqlite:///{tmp_path / 'nice.db'}"
    cmd = [sys.executable, "-m", "convbatch", "worker", "--nice", "7", "--db", db]
    wanted = min(19, os.nice(0) + 7)  # `--nice` adds to the niceness the worker starts with
    worker = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        niceness = None
        while time.monotonic() < deadline and worker.poll() is None:
            # Field 19 of /proc/<pid>/stat is the nice value (after the command in parentheses).
            fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
            niceness = int(fields[16])
            if niceness == wanted:
                break
            time.sleep(0.1)
        assert niceness == wanted, worker.stderr.read() if worker.poll() is not None else niceness
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    refused = subprocess.run([*cmd[:4], "--nice", "40", "--db", db], capture_output=True,
                             text=True)  # fmt: skip
    assert refused.returncode != 0 and "--nice" in refused.stderr
