"""A real API server for the SDK suites: `costsim api` (uvicorn) in a subprocess on loopback, on a
PostgreSQL store, with one key per role, rate-limited tenants for 429s and seeded history rows."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from costsim_assets.api.keys import create_key
from costsim_assets.reports.divergence import signed_report_url
from costsim_assets.security.signing import parse_signing_keys
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.status_history import CHAINED_FIELDS, GENESIS_HASH, chain_hash

ROLES = ("admin", "engineer", "auditor", "service")
SLOW_TENANT, GLACIAL_TENANT, BULK_TENANT = "tenant-slow", "tenant-glacial", "tenant-bulk"
BULK_ROWS, BULK_ENTITY = 100_000, "bulk"
REPORT_FILE_TEXT = "provenance_id,matched\np1,true\n"
RATE_LIMITED_KEYS = 4  # per limited tenant: one bucket per test that spends it
TENANTS_YAML = f"""tenants:
  {SLOW_TENANT}: {{rateLimit: {{requestsPerSecond: 1, burst: 1}}}}
  {GLACIAL_TENANT}: {{rateLimit: {{requestsPerSecond: 0.01, burst: 1}}}}
"""


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    keys: dict[str, str]
    database_url: str
    signing_keys: str
    artifact_root: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_keys(path: Path) -> dict[str, str]:
    """One key per role of tenant-a, tenant-b's engineer and auditor, the bulk auditor and the
    rate-limited tenants' service keys (slow_0.., glacial_0..)."""
    made = {role: create_key(path, "tenant-a", role) for role in ROLES}
    made["other_engineer"] = create_key(path, "tenant-b", "engineer")
    made["other_auditor"] = create_key(path, "tenant-b", "auditor")
    made["bulk_auditor"] = create_key(path, BULK_TENANT, "auditor")
    for n in range(RATE_LIMITED_KEYS):
        made[f"slow_{n}"] = create_key(path, SLOW_TENANT, "service")
        made[f"glacial_{n}"] = create_key(path, GLACIAL_TENANT, "service")
    return made


def server_env(database_url: str, root: Path, keys_file: Path, signing_keys: str) -> dict[str, str]:
    (root / "tenants.yaml").write_text(TENANTS_YAML)
    return {
        **os.environ,
        "COSTSIM_DATABASE_URL": database_url,
        "COSTSIM_API_KEYS_FILE": str(keys_file),
        "COSTSIM_V2_SANDBOX": "true",
        "COSTSIM_SIGNING_KEYS": signing_keys,
        "COSTSIM_EXPORT_DIR": str(root / "exports"),
        "COSTSIM_ARTIFACT_ROOT": str(root / "artifacts"),
        "COSTSIM_TENANTS_FILE": str(root / "tenants.yaml"),
        "COSTSIM_RATE_LIMIT_PER_SECOND": "10000",
        "COSTSIM_RATE_LIMIT_BURST": "10000",
    }


def wait_ready(process: subprocess.Popen, base_url: str, log: Path) -> None:
    """Poll /readyz until the server answers 200; a server that exits or never answers fails loudly."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the API did not become ready:\n{log.read_text()[-4000:]}")


@contextmanager
def live_server(database_url: str, root: Path) -> Iterator[LiveServer]:
    """Migrate the store, start `python -m costsim_assets api` on a free port; always stop it."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    engine.dispose()
    keys_file = root / "keys.yaml"
    keys = make_keys(keys_file)
    signing_keys = f"test:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip('=')}"
    port, log = free_port(), root / "server.log"
    argv = [sys.executable, "-m", "costsim_assets", "api", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            env=server_env(database_url, root, keys_file, signing_keys),
            stdout=out,
            stderr=out,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(process, base_url, log)
        yield LiveServer(base_url, keys, database_url, signing_keys, root / "artifacts")
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _chained_rows(tenant: str, entity_type: str, count: int) -> Iterator[dict]:
    """`count` rows of one tenant with real links (so exports verify)."""
    prev = GENESIS_HASH
    for i in range(count):
        row = {
            "tenant_id": tenant,
            "seq": i + 1,
            "entity_type": entity_type,
            "entity_id": f"job-{i % 5000}",
            "old_status": "running" if i % 3 else None,
            "new_status": ("ok", "failed", "running")[i % 3],
            "actor_type": "sensor",
            "actor_id": f"sensor-{i % 7}",
            "reason": f"seeded row {i}",
            "correlation_id": None,
            "metadata": {"i": i, "region": "eu"},
            "created_at": f"2026-11-01T00:00:00.{i % 1_000_000:06d}+00:00",
        }
        row["prev_hash"], row["chain_hash"] = prev, chain_hash(prev, row)
        prev = row["chain_hash"]
        yield row


def _copy_text(value: object) -> str:
    return "\\N" if value is None else json.dumps(value) if isinstance(value, dict) else str(value)


def seed_history(database_url: str, tenant: str, entity_type: str, count: int) -> None:
    """Bulk-load chained rows with PostgreSQL COPY (100k rows in seconds, as the benchmark does)."""
    columns = (*CHAINED_FIELDS, "prev_hash", "chain_hash")
    buffer = io.StringIO()
    for row in _chained_rows(tenant, entity_type, count):
        buffer.write("\t".join(_copy_text(row[c]) for c in columns) + "\n")
    buffer.seek(0)
    engine = make_engine(database_url)
    raw = engine.raw_connection()
    try:
        raw.cursor().copy_expert(f"COPY status_history ({', '.join(columns)}) FROM STDIN", buffer)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def suite_config(server: LiveServer) -> dict:
    """What the TypeScript suite needs to know: the URL, the keys, and signed report links (one to a
    report file written here, one to a file that does not exist)."""
    folder = server.artifact_root / "reports" / "divergence" / "2026-03-04"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "divergence_2026-03-04.csv").write_text(REPORT_FILE_TEXT)
    keys = parse_signing_keys(server.signing_keys)
    return {
        "base_url": server.base_url,
        "keys": server.keys,
        "report_url": signed_report_url(keys, server.base_url, "divergence_2026-03-04.csv", 3600),
        "report_text": REPORT_FILE_TEXT,
        "missing_report_url": signed_report_url(keys, server.base_url, "divergence_2031-01-01.csv", 3600),
        "bulk_rows": BULK_ROWS,
        "bulk_entity": BULK_ENTITY,
    }
