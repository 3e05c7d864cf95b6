"""The README's Quickstart examples, run verbatim with bash against a freshly bootstrapped server
started the way the README says (in an empty directory, default SQLite database)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)


def json_documents(text: str) -> list:
    """curl prints no newline after a body, so the answers run together."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        document, at = decoder.raw_decode(text, at)
        found.append(document)
    return found


def test_quickstart_curl_examples_work_verbatim(tmp_path):
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "convbatch", "serve", "--port", str(port)],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        exports = ""
        while not exports:
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            found = re.search(r"^export CB_URL=.*$", (tmp_path / "server.log").read_text(), re.M)
            exports = found.group(0) if found else ""
            time.sleep(0.1)
        time.sleep(1)  # the bootstrap line is printed before uvicorn listens
        assert (tmp_path / "convbatch.db").exists()
        example = shell_blocks()[1]
        query = "metadataKey=campaign_id&metadataValue=spring"
        check = f'curl -s -H "Authorization: Bearer $CB_TOKEN" "$CB_URL/v1/projects/$CB_PROJECT/messages?{query}"'  # noqa: E501
        done = subprocess.run(["bash", "-c", f"set -e\n{exports}\n{example}\necho\n{check}"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        sent, listing, cancelled, listing_after = json_documents(done.stdout)
        assert len(sent["batch_id"]) == 26 and sent["send_after"].endswith(":00Z")
        [listed] = listing
        assert listed["batch_id"] == sent["batch_id"] and listed["status"] == "SCHEDULED"
        assert cancelled == {}
        [after] = listing_after
        assert after["status"] == "CANCELLED" and after["counts"]["cancelled"] == 2
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
