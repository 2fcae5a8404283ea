"""Streaming status-history export against PostgreSQL's own COPY, at 100k and 1M rows.

Creates a temporary database on the server (dropped at the end), bulk-loads N chained rows with
COPY, then times the API's export generator (history_chunks: server-side cursor -> CSV / JSON
Lines) writing to /dev/null, and `COPY (SELECT ...) TO STDOUT` via psycopg2 for comparison. Each
export runs in a fresh subprocess so its peak RSS (VmHWM) is its own; a second run reports the Python
heap peak (tracemalloc). Prints rows/s, peak memory and the generator-to-COPY ratios.

    .venv/bin/python benchmarks/export_history.py [URL] [--rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
import tracemalloc
import uuid

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from costsim_assets.history.exports import history_chunks
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.status_history import CHAINED_FIELDS, GENESIS_HASH, chain_hash

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
TENANTS = ("tenant-a", "tenant-b", "tenant-c", "tenant-d")
LOAD_BATCH = 100_000
COPY_QUERIES = {
    "csv": "COPY (SELECT * FROM status_history ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)",
    "jsonl": "COPY (SELECT row_to_json(h) FROM (SELECT * FROM status_history ORDER BY id) h) TO STDOUT",
}


def _copy_text(value: object) -> str:
    return "\\N" if value is None else str(value)


def _rows(count: int):
    """Chained rows round-robin over the tenants (real links, so exports verify)."""
    heads = {tenant: (0, GENESIS_HASH) for tenant in TENANTS}
    for i in range(count):
        tenant = TENANTS[i % len(TENANTS)]
        seq, prev = heads[tenant]
        row = {
            "tenant_id": tenant,
            "seq": seq + 1,
            "entity_type": "job",
            "entity_id": f"job-{i % 5000}",
            "old_status": "running" if i % 3 else None,
            "new_status": ("ok", "failed", "running")[i % 3],
            "actor_type": "sensor",
            "actor_id": f"sensor-{i % 7}",
            "reason": f"benchmark row {i}",
            "correlation_id": None,
            "metadata": {"i": i, "region": "eu"},
            "created_at": f"2026-11-{1 + i // 4_000_000:02d}T00:00:00.{i % 1_000_000:06d}+00:00",
        }
        row["prev_hash"], row["chain_hash"] = prev, chain_hash(prev, row)
        heads[tenant] = (seq + 1, row["chain_hash"])
        yield row


def load(url: str, count: int) -> float:
    """COPY `count` generated rows in batches; returns seconds."""
    columns = (*CHAINED_FIELDS, "prev_hash", "chain_hash")
    started = time.perf_counter()
    raw = make_engine(url).raw_connection()
    try:
        cursor, buffer = raw.cursor(), io.StringIO()
        for n, row in enumerate(_rows(count), start=1):
            values = {**row, "metadata": json.dumps(row["metadata"])}
            buffer.write("\t".join(_copy_text(values[c]) for c in columns) + "\n")
            if n % LOAD_BATCH == 0 or n == count:
                buffer.seek(0)
                cursor.copy_expert(f"COPY status_history ({', '.join(columns)}) FROM STDIN", buffer)
                buffer = io.StringIO()
        raw.commit()
        cursor.execute("ANALYZE status_history")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def _status_kb(field: str) -> int:
    """A /proc/self/status figure (Linux): VmHWM resets at exec, unlike getrusage's ru_maxrss."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(f"{field}:"))
    return int(line.split()[1])


def export_once(url: str, kind: str, fmt: str, trace: bool) -> dict[str, float]:
    """One export to /dev/null in this process: generator (the API's) or PostgreSQL COPY."""
    engine = make_engine(url)
    with engine.connect():
        pass
    baseline_kb = _status_kb("VmRSS")
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with open("/dev/null", "wb") as sink:
        if kind == "generator":
            for chunk in history_chunks(engine, None, {}, fmt):
                sink.write(chunk.encode())
        else:
            raw = engine.raw_connection()
            raw.cursor().copy_expert(COPY_QUERIES[fmt], sink)
            raw.close()
    seconds = time.perf_counter() - started
    peak_heap = tracemalloc.get_traced_memory()[1] if trace else 0
    peak_kb = _status_kb("VmHWM")
    return {
        "seconds": seconds,
        "rss_peak_mb": peak_kb / 1024,
        "rss_growth_mb": (peak_kb - baseline_kb) / 1024,
        "heap_peak_mb": peak_heap / 2**20,
    }


def run_child(url: str, kind: str, fmt: str, trace: bool = False) -> dict[str, float]:
    argv = [sys.executable, __file__, url, "--child", kind, fmt] + (["--trace"] if trace else [])
    return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


def bench(admin_url: str, count: int) -> None:
    name = f"costsim_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade_to_head(engine)
        engine.dispose()
        print(f"\n== {count:,} rows: loaded by COPY in {load(url, count):.1f} s")
        for fmt in ("csv", "jsonl"):
            ours, copy = run_child(url, "generator", fmt), run_child(url, "copy", fmt)
            heap = run_child(url, "generator", fmt, trace=True)["heap_peak_mb"]
            print(
                f"{fmt:5} generator {count / ours['seconds']:>10,.0f} rows/s  {ours['seconds']:6.2f} s  "
                f"peak RSS {ours['rss_peak_mb']:.0f} MB (+{ours['rss_growth_mb']:.0f} MB during export), "
                f"Python heap peak {heap:.1f} MB"
            )
            print(
                f"{fmt:5} PG COPY   {count / copy['seconds']:>10,.0f} rows/s  {copy['seconds']:6.2f} s  "
                f"peak RSS {copy['rss_peak_mb']:.0f} MB"
            )
            print(f"{fmt:5} generator takes {ours['seconds'] / copy['seconds']:.1f}x COPY's time")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(export_once(args.url, *args.child, args.trace)))
        return
    for count in args.rows:
        bench(args.url, count)


if __name__ == "__main__":
    main()
