"""The CSV reading and run planning of ``convbatch send``, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from convbatch.client.recipients import CsvProblem, read_recipients
from convbatch.client.run import (
    CHUNK_KEY,
    RUN_KEY,
    Options,
    RunFile,
    accepted_on_server,
    request_body,
    run_id,
    split,
)

OPTIONS = Options("http://x", "P", "A", "Hi ${name}")


def test_bad_rows_are_reported_with_their_line_numbers() -> None:
    content = 'phone,name\n+1,Ada\n+2\n,Nobody\n"+3","multi\nline"\n+1,Again\n\n+4,Bob\n'
    found = read_recipients(content, text="Hi ${name}")
    assert [(r.line, r.identity) for r in found.good] == [(2, "+1"), (6, "+3"), (9, "+4")]
    assert found.good[1].parameters == {"name": "multi\nline"}
    assert [(b.line, b.reason) for b in found.bad] == [
        (3, "1 fields where the header has 2"),
        (4, "empty phone"),
        (7, "phone +1 already on line 2"),
    ]


def test_identity_column_default_and_choice() -> None:
    assert read_recipients("name,identity\nA,+1\n").identity_column == "identity"
    found = read_recipients("who,name\n+1,A\n", identity_column="who")
    assert found.good[0].parameters == {"name": "A"}
    with pytest.raises(CsvProblem, match="no identity column"):
        read_recipients("who,name\n+1,A\n")
    with pytest.raises(CsvProblem, match="no column 'nope'"):
        read_recipients("phone\n+1\n", identity_column="nope")


def test_placeholder_without_a_column_is_refused() -> None:
    with pytest.raises(CsvProblem, match=r"\$\{code\}"):
        read_recipients("phone,name\n+1,A\n", text="Hi ${name}, ${code}")


def test_run_id_follows_content_and_options() -> None:
    same = run_id(b"phone\n+1\n", OPTIONS)
    assert same == run_id(b"phone\n+1\n", OPTIONS)
    assert same != run_id(b"phone\n+2\n", OPTIONS)
    assert same != run_id(b"phone\n+1\n", Options("http://x", "P", "A", "Hello ${name}"))


def test_chunks_are_tagged_with_run_and_number() -> None:
    found = read_recipients("phone,name\n" + "".join(f"+{i},N{i}\n" for i in range(2500)))
    chunks = split(found.good, 1000)
    assert [len(c.recipients) for c in chunks] == [1000, 1000, 500]
    body = request_body(Options("u", "P", "A", "t", metadata=(("k", "v"),)), "RUN", chunks[2])
    assert body["batch_metadata"] == {"k": "v", RUN_KEY: "RUN", CHUNK_KEY: "3"}
    assert len(body["recipient_and_params"]) == 500
    statuses = [
        {"batch_id": "B3", "meta_data": body["batch_metadata"]},
        {"batch_id": "OTHER", "meta_data": {RUN_KEY: "ELSE", CHUNK_KEY: "1"}},
    ]
    assert accepted_on_server(statuses, "RUN") == {3: "B3"}


def test_run_file_round_trip_and_other_run(tmp_path: Path) -> None:
    path = tmp_path / "x.run.json"
    fresh = RunFile.load(path, "R1")
    assert not fresh.resumed
    fresh.accept(2, "B2")
    again = RunFile.load(path, "R1")
    assert again.chunks == {2: "B2"} and again.resumed
    assert RunFile.load(path, "R2").chunks == {} and not RunFile.load(path, "R2").resumed
    path.write_text("{half")
    assert RunFile.load(path, "R1").chunks == {}
