"""End to end: normal days pass; a shifted day trips P1/P2, the sensor disables V2 exactly once,
writes one incident with diff artifacts, Slack gets the message, and /metrics shows it all."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from costsim_assets.definitions import build_definitions
from costsim_assets.defs.resources import CanaryResource
from costsim_assets.defs.sensors import canary_drift_sensor
from costsim_assets.observability.metrics import render_metrics
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.incidents import list_incidents
from costsim_assets.store.routing import read_routing_state
from costsim_assets.store.tables import status_history
from tests.dagster.conftest import make_resources

NORMAL_DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")
SHIFTED_DAY = "2026-11-23"
DAY_ASSETS = ["sandbox/traffic_replay", "canary/sample", "canary/drift", "canary/verdict"]


class SlackReceiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        SlackReceiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def slack():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlackReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000"
    server.shutdown()


@pytest.fixture(scope="module")
def world(tmp_path_factory, slack):
    root = tmp_path_factory.mktemp("canary")
    resources = make_resources(root / "artifacts", f"sqlite:///{root}/store.db")
    resources["canary"] = CanaryResource(slack_webhook_url=slack, incident_dir=str(root / "incidents"))
    definitions = build_definitions(resources)
    instance = dg.DagsterInstance.ephemeral()
    job = definitions.resolve_implicit_global_asset_job_def()
    keys = [dg.AssetKey(["reference", n]) for n in DATASET_NAMES] + [dg.AssetKey(["models", "v2_model"])]
    assert job.execute_in_process(instance=instance, asset_selection=keys).success
    return resources, definitions, instance, root


def run_day(world, day: str, prompt_scale: float = 1.0):
    resources, definitions, instance, _ = world
    job = definitions.resolve_implicit_global_asset_job_def()
    config = {
        "ops": {
            "sandbox__traffic_replay": {"config": {"requests_per_day": 3000, "prompt_scale": prompt_scale}}
        }
    }
    return job.execute_in_process(
        instance=instance,
        partition_key=day,
        run_config=config,
        raise_on_error=False,
        asset_selection=[dg.AssetKey.from_user_string(k) for k in DAY_ASSETS],
    )


def tick(world, cursor=None):
    resources, _, instance, _ = world
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    return canary_drift_sensor(context), context.cursor


def checks(result) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def test_normal_then_shifted_traffic(world, slack):
    resources, _, _, root = world
    for day in NORMAL_DAYS:
        result = run_day(world, day)
        assert result.success and checks(result) == {
            "drift_p1": True,
            "median_shift_p2": True,
            "schema_errors_p3": True,
        }
    first, cursor = tick(world)
    assert "no new breaches" in first.skip_message
    engine = resources["store"].engine()
    with engine.connect() as conn:
        assert read_routing_state(conn).enabled

    shifted = run_day(world, SHIFTED_DAY, prompt_scale=6.0)
    assert checks(shifted) == {"drift_p1": False, "median_shift_p2": False, "schema_errors_p3": True}
    materialized = {e.asset_key.to_user_string() for e in shifted.get_asset_materialization_events()}
    assert "canary/verdict" not in materialized  # blocked by the failed P1 check

    # Two sensors ticking on the same evaluations: one transition, one incident, one Slack message each.
    one, _ = tick(world, cursor)
    two, _ = tick(world, cursor)
    assert "incident opened" in one.skip_message and "already disabled" in two.skip_message
    with engine.connect() as conn:
        state = read_routing_state(conn)
        incidents = list_incidents(conn)
        transitions = (
            conn.execute(sa.select(status_history).where(status_history.c.entity_type == "v2_routing"))
            .mappings()
            .all()
        )
    assert not state.enabled and [i["kind"] for i in incidents] == ["drift_p1"]
    assert [(t["old_status"], t["new_status"], t["correlation_id"]) for t in transitions] == [
        ("enabled", "disabled", incidents[0]["id"])
    ]
    files = sorted(p.name for p in (root / "incidents").iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".md")
    incident = json.loads((root / "incidents" / files[0]).read_text())
    assert incident["evidence"]["value"] > incident["evidence"]["threshold"] == 0.2
    assert (root / "artifacts" / "canary" / SHIFTED_DAY / "diff_pairs.parquet").exists()
    assert incident["evidence"]["diff_artifacts"].endswith("diff_pairs.parquet")
    texts = [m["text"] for m in SlackReceiver.received]
    assert sum("[P2]" in t for t in texts) == 1 and sum("[P1]" in t for t in texts) == 1

    # A rerun of the same day produces new evaluations but no new transition, incident or message.
    run_day(world, SHIFTED_DAY, prompt_scale=6.0)
    tick(world, cursor)
    with engine.connect() as conn:
        assert len(list_incidents(conn)) == 1
    assert len(SlackReceiver.received) == 2

    scraped = {
        s.name: s
        for f in text_string_to_metric_families(
            render_metrics(engine, resources["store"].sandbox_engine()).decode()
        )
        for s in f.samples
    }
    assert scraped["costsim_drift_score"].value > 0.2
    assert scraped["costsim_routing_enabled"].value == 0
