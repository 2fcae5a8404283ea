"""CSV and JSON Lines renderings of status-history rows, and reading them back for verification.

Rendering yields text in chunks of CHUNK_ROWS rows so a response or file write never holds more.
CSV writes NULL as an empty cell, so reading maps empty nullable cells back to None.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from costsim_assets.store.tables import status_history

COLUMNS = tuple(status_history.c.keys())
NULLABLE = tuple(c.name for c in status_history.c if c.nullable)
INTEGERS = ("id", "seq")
CHUNK_ROWS = 1000
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def csv_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A header line, then the rows; metadata as compact JSON."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_compact(row[c]) if c == "metadata" else row[c] for c in COLUMNS])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One JSON object per line, keys in column order."""
    lines: list[str] = []
    for row in rows:
        lines.append(json.dumps({c: row[c] for c in COLUMNS}, separators=(",", ":"), default=str))
        if len(lines) == CHUNK_ROWS:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def _typed_csv_row(cells: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = dict(cells)
    for name in INTEGERS:
        row[name] = int(cells[name])
    for name in NULLABLE:
        row[name] = cells[name] or None
    row["metadata"] = json.loads(cells["metadata"])
    return row


def read_export(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of a .csv or .jsonl export, typed as the database returned them."""
    with open(path, newline="", encoding="utf-8") as stream:
        if path.suffix == ".csv":
            yield from (_typed_csv_row(cells) for cells in csv.DictReader(stream))
        else:
            yield from (json.loads(line) for line in stream if line.strip())
