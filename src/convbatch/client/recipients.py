"""Reads the recipients of ``convbatch send`` from a CSV file.

One column names the identity (``--identity-column``, or the first of ``identity``, ``phone``,
``msisdn``, ``recipient`` present in the header); every other column becomes a parameter of the
same name. A row that cannot be sent as meant is reported with its line number and left out:
a wrong number of fields, an empty identity, or an identity already seen in the file."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

IDENTITY_COLUMNS = ("identity", "phone", "msisdn", "recipient")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class CsvProblem(ValueError):
    """The file as a whole cannot be used (no header, no identity column, unknown placeholder)."""


@dataclass(frozen=True)
class Recipient:
    line: int
    identity: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class Recipients:
    identity_column: str
    good: list[Recipient] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def placeholders(text: str) -> set[str]:
    return {name.strip() for name in _PLACEHOLDER.findall(text)}


def choose_identity_column(header: list[str], wanted: str | None) -> str:
    if wanted:
        if wanted not in header:
            raise CsvProblem(f"the header has no column {wanted!r} (columns: {', '.join(header)})")
        return wanted
    for name in IDENTITY_COLUMNS:
        if name in header:
            return name
    raise CsvProblem(
        f"no identity column: name one with --identity-column, or call it one of "
        f"{', '.join(IDENTITY_COLUMNS)} (columns: {', '.join(header)})"
    )


def read_recipients(content: str, identity_column: str | None = None, text: str = "") -> Recipients:
    """Every row of ``content`` (the whole CSV), sorted into good recipients and bad rows.
    Placeholders of ``text`` that no column provides are a problem of the whole file."""
    reader = csv.reader(io.StringIO(content, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise CsvProblem("the file is empty; the first line must name the columns")
    column = choose_identity_column(header, identity_column)
    missing = sorted(placeholders(text) - set(header))
    if missing:
        raise CsvProblem(f"the text uses ${{{'}, ${'.join(missing)}}} but no column has that name")
    found = Recipients(column)
    seen: dict[str, int] = {}
    at = header.index(column)
    for row in reader:
        line = reader.line_num
        if not row or row == [""]:
            continue  # blank lines are not recipients
        problem = _problem(row, header, at, seen)
        if problem:
            found.bad.append(BadRow(line, problem))
            continue
        identity = row[at].strip()
        seen[identity] = line
        params = {name: value for name, value in zip(header, row, strict=True) if name != column}
        found.good.append(Recipient(line, identity, params))
    return found


def _problem(row: list[str], header: list[str], at: int, seen: dict[str, int]) -> str:
    if len(row) != len(header):
        return f"{len(row)} fields where the header has {len(header)}"
    identity = row[at].strip()
    if not identity:
        return f"empty {header[at]}"
    if identity in seen:
        return f"{header[at]} {identity} already on line {seen[identity]}"
    return ""
