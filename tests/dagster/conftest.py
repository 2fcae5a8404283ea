"""Fixtures for the Dagster layer: real resources on temporary directories and databases, and real
Dagster instances built from the repository's own instance configurations."""

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from costsim_assets.defs.resources import (
    ArtifactStoreResource,
    CanaryResource,
    ReferenceDataResource,
    ReportLinksResource,
    StoreResource,
)

REPO = Path(__file__).resolve().parents[2]
TRACE = str(Path("../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv").resolve())
INSTANCE_KINDS = ("sqlite_sharded", "sqlite_consolidated", "postgresql")
# The storage class of a consolidated (one file) SQLite event log. Instance YAML names classes by
# module path; Dagster's docs say `dagster.core...`, which 1.13 no longer has.
CONSOLIDATED_STORAGE = {
    "event_log_storage": {
        "module": "dagster._core.storage.event_log",
        "class": "ConsolidatedSqliteEventLogStorage",
        "config": {"base_dir": "history"},
    }
}


def make_resources(root: Path, database_url: str, historical_source: str = TRACE) -> dict:
    return {
        "store": StoreResource(database_url=database_url),
        "artifacts": ArtifactStoreResource(root=str(root)),
        "reference_data": ReferenceDataResource(
            historical_source=historical_source, anonymization_salt="test-salt"
        ),
        "canary": CanaryResource(incident_dir=str(root / "incidents")),
        "report_links": ReportLinksResource(),
    }


@pytest.fixture
def sqlite_resources(tmp_path) -> dict:
    return make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")


def dagster_pg_env(database_url: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables deploy/dagster/dagster-postgres.yaml reads, for one database."""
    url = sa.make_url(database_url)
    return {
        "DAGSTER_PG_HOST": url.host,
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username,
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database,
    }


def write_instance_home(home: Path, kind: str) -> Path:
    """A DAGSTER_HOME holding the repository's dagster.yaml (sharded SQLite, as shipped), a
    consolidated-SQLite variant of it, or deploy/dagster/dagster-postgres.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    if kind == "postgresql":
        shutil.copy(REPO / "deploy/dagster/dagster-postgres.yaml", home / "dagster.yaml")
    elif kind == "sqlite_sharded":
        shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    else:
        config = yaml.safe_load((REPO / "dagster.yaml").read_text()) | CONSOLIDATED_STORAGE
        config["event_log_storage"]["config"]["base_dir"] = str(home / "history")
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@contextmanager
def repo_instance(kind: str, home: Path, database_factory) -> Iterator[dg.DagsterInstance]:
    """A real instance of one kind; PostgreSQL gets a fresh database from the factory."""
    write_instance_home(home, kind)
    with pytest.MonkeyPatch.context() as patch:
        if kind == "postgresql":
            for name, value in dagster_pg_env(database_factory()).items():
                patch.setenv(name, value)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            yield instance


@dataclass
class SlackInbox:
    """A local Slack incoming webhook and every message it received."""

    url: str
    received: list = field(default_factory=list)


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackInbox]:
    """A webhook receiver on a free loopback port (shared by a module's tests: clear it first)."""
    received: list = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SlackInbox(f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000", received)
    server.shutdown()
