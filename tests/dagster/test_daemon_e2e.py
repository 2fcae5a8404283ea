"""A real `dagster-daemon` with the project's dagster.yaml (run-sharded SQLite, as shipped) and
workspace in a temporary home: after a breaching canary day, its sensor tick launches the
breach_response run, which disables V2, writes one incident and sends one alert to a local
receiver, within a bounded number of ticks and seconds, with no sensor error in the daemon's log."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.defs.resources import CanaryResource
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.incidents import list_deliveries, list_incidents
from costsim_assets.store.routing import read_routing_state
from tests.dagster.conftest import REPO, TRACE, make_resources, repo_instance

DAY = "2026-11-23"
SENSOR = "canary_drift_sensor"
MAX_SECONDS, MAX_TICKS = 120, 30


def daemon_env(root: Path, home: Path, slack: str) -> dict[str, str]:
    """What `make run` exports, pointed at temporary places, with a one-second sensor interval."""
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "COSTSIM_DATABASE_URL": f"sqlite:///{root}/store.db",
        "COSTSIM_SANDBOX_DATABASE_URL": "",
        "COSTSIM_ARTIFACT_ROOT": str(root / "artifacts"),
        "COSTSIM_HISTORICAL_SOURCE": TRACE,
        "COSTSIM_ANONYMIZATION_SALT": "test-salt",
        "COSTSIM_SLACK_WEBHOOK_URL": slack,
        "COSTSIM_API_BASE_URL": "",
        "COSTSIM_SIGNING_KEYS": "",
        "COSTSIM_TENANTS_FILE": "",
        "COSTSIM_SENSOR_INTERVAL_S": "1",
    }


@pytest.fixture
def daemon(tmp_path, slack):
    """The daemon (and the code server it starts) in its own process group, stopped afterwards."""
    home = tmp_path / "dagster_home"
    env = daemon_env(tmp_path, home, slack.url)
    log = (tmp_path / "daemon.log").open("w")
    with repo_instance("sqlite_sharded", home, None):
        pass  # writes the repository's dagster.yaml into the home
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield home, tmp_path / "daemon.log"
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def ticks(log: Path) -> int:
    return log.read_text().count(f"Checking for new runs for sensor: {SENSOR}")


def test_the_daemon_disables_v2_after_a_breaching_day(daemon, tmp_path, slack):
    home, log = daemon
    slack.received.clear()
    resources = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    resources["canary"] = CanaryResource(slack_webhook_url=slack.url)
    definitions = build_definitions(resources)
    replay = {"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 2000, "output_scale": 2.0}}}}
    with repo_instance("sqlite_sharded", home, None) as instance:
        setup = [*(keys.reference(n) for n in DATASET_NAMES), keys.MODEL]
        static = definitions.resolve_job_def("m6_validation")
        assert static.execute_in_process(instance=instance, asset_selection=setup).success
        daily = definitions.resolve_job_def("daily_canary").execute_in_process(
            instance=instance, partition_key=DAY, run_config=replay, raise_on_error=False
        )
        assert not daily.success  # the blocking P1 check failed
        breached_at, ticks_before = time.monotonic(), ticks(log)
        engine = resources["store"].engine()
        while time.monotonic() - breached_at < MAX_SECONDS:
            with engine.connect() as conn:
                disabled, incidents = not read_routing_state(conn).enabled, list_incidents(conn)
            if disabled and incidents and incidents[0]["md_path"] and slack.received:
                break
            time.sleep(1)
        seconds, tick_count = time.monotonic() - breached_at, ticks(log) - ticks_before
        runs = [r for r in instance.get_runs() if r.job_name == "breach_response"]
    print(f"daemon: V2 disabled {seconds:.1f} s and {tick_count} {SENSOR} ticks after the breaching run")
    text = log.read_text()
    assert "Sensor tick caught an error" not in text and "_get_run_sharded_event_records" not in text
    assert seconds < MAX_SECONDS and 1 <= tick_count <= MAX_TICKS, text[-3000:]
    assert {r.tags["costsim/check"] for r in runs} == {"realized_drift_p1"}  # outputs moved, not prices
    with engine.connect() as conn:
        [incident], deliveries = list_incidents(conn), list_deliveries(conn)
    assert incident["kind"] == "realized_drift_p1" and Path(incident["md_path"]).is_file()
    assert Path(incident["md_path"]).parent == tmp_path / "artifacts" / "incidents"
    assert sum("[P1]" in m["text"] for m in slack.received) == 1
    assert {d["dedupe_key"] for d in deliveries} >= {f"realized_drift_p1/{DAY}"}
