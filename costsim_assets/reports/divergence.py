"""Cost divergence reports: V2 against V1 per provenance row, summarised by the same statistics
module as the canary, and written as CSV, JSON lines or Parquet with the summary embedded."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from costsim_assets.artifacts.files import atomic_write
from costsim_assets.security.signing import SigningKeys, sign_url
from costsim_assets.statistics.divergence import divergence_summary, within_tolerance
from costsim_assets.store.tables import V2_SKIPPED

FORMATS = ("csv", "jsonl", "parquet")
FAILED_STATUSES = ("error", "timeout")
SCHEMA_ERROR = "schema_error"
NOT_PAIRED = (SCHEMA_ERROR, V2_SKIPPED)  # no V1 output, or V2 never ran (flag or routing off)
SUMMARY_KEY = b"costsim.summary"
CSV_PREFIX = "# summary: "
REPORT_SUBDIR = ("reports", "divergence")
FILE_ROUTE = "/reports/files"
LINK_TTL_S = 7 * 24 * 3600
MEDIA_TYPES = {
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "json": "application/json",
}
PAIR_COLUMNS = (
    "provenance_id",
    "created_at",
    "tenant_id",
    "input_hash",
    "v1_version",
    "v2_version",
    "v1_output_hash",
    "v2_output_hash",
    "v1_cost_cents",
    "v2_cost_cents",
    "v2_status",
    "difference",
    "matched",
)
_SOURCE_COLUMNS = {"provenance_id": "id", **{c: c for c in PAIR_COLUMNS[1:11]}}
_TEXT_COLUMNS = (
    "provenance_id",
    "tenant_id",
    "input_hash",
    "v1_version",
    "v2_version",
    "v1_output_hash",
    "v2_output_hash",
    "v2_status",
)
_FILE_NAME = re.compile(r"divergence_(\d{4}-\d{2}-\d{2})\.(csv|jsonl|parquet|json)")


def pair_rows(rows: Sequence[dict[str, Any]], rel_tol: float, abs_tol: float) -> pd.DataFrame:
    """One row per evaluable pair: schema errors (no V1 output) and rows where V2 was skipped (no V2
    evaluation, so not a V2 failure either) are left out."""
    source = pd.DataFrame(
        [
            {name: row.get(column) for name, column in _SOURCE_COLUMNS.items()}
            for row in rows
            if row["v2_status"] not in NOT_PAIRED
        ],
        columns=list(_SOURCE_COLUMNS),
    )
    v1 = pd.to_numeric(source["v1_cost_cents"]).to_numpy(dtype=float)
    v2 = pd.to_numeric(source["v2_cost_cents"]).to_numpy(dtype=float)
    usable = ~source["v2_status"].isin(FAILED_STATUSES).to_numpy() & np.isfinite(v1) & np.isfinite(v2)
    source = source.astype({c: "string" for c in _TEXT_COLUMNS}).assign(
        created_at=pd.to_datetime(source["created_at"], utc=True).astype("datetime64[us, UTC]"),
        v1_cost_cents=v1,
        v2_cost_cents=v2,
        difference=np.where(usable, v2 - v1, np.nan),
        matched=usable & within_tolerance(v1, v2, rel_tol, abs_tol),
    )
    return source[list(PAIR_COLUMNS)]


def divergence_summary_for(rows: Sequence[dict[str, Any]], rel_tol: float, abs_tol: float) -> dict[str, Any]:
    """The canary's pairwise statistics for these rows; too few pairs gives no_data with None values."""
    statuses = np.array([row["v2_status"] for row in rows], dtype=object)
    evaluable = ~np.isin(statuses, NOT_PAIRED)
    v1 = np.array([row["v1_cost_cents"] for row in rows], dtype=float)[evaluable]
    v2 = np.array([row["v2_cost_cents"] for row in rows], dtype=float)[evaluable]
    summary = divergence_summary(v1, v2, np.isin(statuses[evaluable], FAILED_STATUSES), rel_tol, abs_tol)
    return {
        **summary.to_dict(),
        "n_rows": len(rows),
        "n_schema_errors": int((statuses == SCHEMA_ERROR).sum()),
        "n_v2_skipped": int((statuses == V2_SKIPPED).sum()),
        "rel_tol": rel_tol,
        "abs_tol": abs_tol,
    }


def summary_json(summary: dict[str, Any]) -> str:
    """One canonical JSON text, so every format embeds byte-identical summaries."""
    return json.dumps(summary, sort_keys=True, separators=(",", ":"))


def _text_timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    """created_at as ISO 8601 text, identical in CSV and JSON lines."""
    return frame.assign(created_at=[t.isoformat() for t in frame["created_at"]])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows at full float precision, with null rather than NaN for missing values."""
    plain = _text_timestamps(frame).astype(object)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in plain.where(plain.notna(), None).to_dict("records")
    ]


def csv_chunks(frame: pd.DataFrame, summary: dict[str, Any], chunk_rows: int = 5000) -> Iterator[str]:
    """CSV text in chunks (so the API can stream it): a summary comment line, header, then rows."""
    yield f"{CSV_PREFIX}{summary_json(summary)}\n"
    text = _text_timestamps(frame)
    yield text.head(0).to_csv(index=False)
    for start in range(0, len(text), chunk_rows):
        yield text.iloc[start : start + chunk_rows].to_csv(index=False, header=False)


def jsonl_chunks(frame: pd.DataFrame, summary: dict[str, Any], chunk_rows: int = 5000) -> Iterator[str]:
    """JSON lines in chunks: `{"summary": ...}` first, then one object per pair."""
    yield json.dumps({"summary": summary}, sort_keys=True) + "\n"
    for start in range(0, len(frame), chunk_rows):
        yield "".join(json.dumps(r) + "\n" for r in _records(frame.iloc[start : start + chunk_rows]))


def parquet_table(frame: pd.DataFrame, summary: dict[str, Any]) -> pa.Table:
    """The pairs as an Arrow table carrying the summary in its key-value metadata."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.replace_schema_metadata(
        {**(table.schema.metadata or {}), SUMMARY_KEY: summary_json(summary).encode()}
    )


def parquet_bytes(frame: pd.DataFrame, summary: dict[str, Any]) -> bytes:
    """The Parquet file in memory, for an HTTP response."""
    buffer = io.BytesIO()
    pq.write_table(parquet_table(frame, summary), buffer)
    return buffer.getvalue()


def write_report(frame: pd.DataFrame, summary: dict[str, Any], path: Path, fmt: str) -> Path:
    """Write one format atomically (temp file + rename): readers never see half a report."""
    if fmt == "parquet":
        return atomic_write(path, lambda tmp: pq.write_table(parquet_table(frame, summary), tmp))
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}: {fmt!r}")
    chunks = csv_chunks if fmt == "csv" else jsonl_chunks
    return atomic_write(path, lambda tmp: tmp.write_text("".join(chunks(frame, summary))))


def read_parquet_summary(path: Path) -> dict[str, Any]:
    """The summary embedded in a report's Parquet metadata."""
    return json.loads(pq.read_schema(path).metadata[SUMMARY_KEY])


def report_file_name(day: str, fmt: str) -> str:
    """A flat, day-stamped name: links carry no directories, and the day locates the file."""
    return f"divergence_{day}.{fmt}"


def locate_report_file(report_root: Path, name: str) -> Path | None:
    """The report file `name` names under `report_root`, or None for anything else."""
    match = _FILE_NAME.fullmatch(name)
    if match is None:
        return None
    path = (report_root / match.group(1) / name).resolve()
    return path if path.is_relative_to(report_root.resolve()) and path.is_file() else None


def report_file_route(name: str) -> str:
    """The API path that serves one report file (what a signed URL signs)."""
    return f"{FILE_ROUTE}/{name}"


def signed_report_url(keys: SigningKeys, base_url: str, name: str, ttl_s: int) -> str:
    """A link to a report file that works without an API key until it expires."""
    route = report_file_route(name)
    return f"{base_url.rstrip('/')}{route}?{urlencode(sign_url(keys, 'GET', route, name, ttl_s))}"
