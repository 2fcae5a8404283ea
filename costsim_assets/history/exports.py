"""Writing a status-history export file: streamed from a server-side cursor, atomically renamed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from costsim_assets.artifacts.files import atomic_write
from costsim_assets.history.formats import csv_chunks, jsonl_chunks
from costsim_assets.store.history_queries import iter_history

CHUNKERS = {"csv": csv_chunks, "jsonl": jsonl_chunks}


@dataclass(frozen=True)
class WrittenExport:
    path: Path
    rows: int
    sha256: str


def history_chunks(
    engine: sa.Engine, tenant_id: str | None, filters: Mapping[str, str | None], fmt: str
) -> Iterator[str]:
    """Rendered chunks of every matching row; the connection lives exactly as long as the stream."""
    with engine.connect() as conn:
        yield from CHUNKERS[fmt](iter_history(conn, tenant_id=tenant_id, filters=filters))


def write_export(
    engine: sa.Engine, path: Path, tenant_id: str | None, filters: Mapping[str, str | None], fmt: str
) -> WrittenExport:
    """Stream the rows into `path` (never half-written) and report the row count and SHA-256."""
    digest, rows = hashlib.sha256(), 0

    def counted(conn: sa.Connection) -> Iterator[dict[str, Any]]:
        nonlocal rows
        for row in iter_history(conn, tenant_id=tenant_id, filters=filters):
            rows += 1
            yield row

    def write(tmp: Path) -> None:
        with engine.connect() as conn, open(tmp, "wb") as stream:
            for chunk in CHUNKERS[fmt](counted(conn)):
                data = chunk.encode()
                digest.update(data)
                stream.write(data)

    atomic_write(path, write)
    return WrittenExport(path=path, rows=rows, sha256=digest.hexdigest())
