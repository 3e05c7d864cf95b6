"""The official Node SDK (tests/node, @sinch/sdk-core from its lock file) against a real
server process: the Node test runner must pass every test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.test_sdk import make_tenant
from tests.integration.helpers import FAST
from tests.support import LiveServer

NODE_DIR = Path(__file__).resolve().parent.parent / "node"


def node_ready() -> str | None:
    """Why the Node suite cannot run here, or None. CI installs it (`make node-deps`)."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "@sinch" / "sdk-core").is_dir():
        return "run `make node-deps` (npm ci in tests/node) first"
    return None


@pytest.mark.skipif(node_ready() is not None, reason=str(node_ready()))
async def test_node_sdk_suite_passes(settings):
    tenant = await make_tenant(settings)
    with LiveServer(settings.with_(**FAST)) as server:
        env = {**os.environ, "CB_URL": server.url, "CB_PROJECT": tenant.project_id,
               "CB_KEY_ID": tenant.key_id, "CB_KEY_SECRET": tenant.key_secret,
               "CB_APP": tenant.app_id}  # fmt: skip
        done = subprocess.run(
            ["node", "--test", "wire.test.mjs"], cwd=NODE_DIR, env=env,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 5" in done.stdout, done.stdout[-2000:]
