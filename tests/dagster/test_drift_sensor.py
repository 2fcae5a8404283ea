"""The kill switch on every instance the project ships: normal days pass; a shifted day trips P1/P2
and a day of rejected plans trips P3; canary_drift_sensor, reading the check executions of a real
instance built from the repository's configuration (run-sharded SQLite as shipped, consolidated
SQLite, PostgreSQL), asks for one breach_response run per check and day; those runs disable V2 once,
write one incident with its files and send one message per breach, however often they run."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from costsim_assets.canary.checks import CHECKS
from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.defs.resources import CanaryResource, StoreResource
from costsim_assets.defs.sensors import decide
from costsim_assets.observability.metrics import render_metrics
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.incidents import list_deliveries, list_incidents
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.tables import status_history
from tests.dagster.conftest import INSTANCE_KINDS, make_resources, repo_instance

NORMAL_DAY, SHIFTED_DAY, SCHEMA_DAY = "2026-11-20", "2026-11-23", "2026-11-24"
SHIFT = {"prompt_scale": 6.0, "output_scale": 2.0}  # longer prompts (P2) and outputs V2 misses (P1)
DAY_ASSETS = [keys.TRAFFIC_REPLAY, keys.CANARY_SAMPLE, keys.CANARY_DRIFT, keys.CANARY_VERDICT]


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    """Golden datasets and the model asset's artifact, built once for every instance kind."""
    root = tmp_path_factory.mktemp("golden")
    resources = make_resources(root / "artifacts", f"sqlite:///{root}/setup.db")
    setup = [*(keys.reference(n) for n in DATASET_NAMES), keys.MODEL]
    job = build_definitions(resources).resolve_job_def("m6_validation")
    assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=setup).success
    return root


class World:
    """A fresh store and one real instance per test; the golden files are shared."""

    def __init__(self, golden, tmp_path, slack, instance):
        self.resources = make_resources(golden / "artifacts", f"sqlite:///{tmp_path}/store.db")
        self.resources["canary"] = CanaryResource(
            slack_webhook_url=slack.url, incident_dir=str(tmp_path / "incidents")
        )
        self.definitions = build_definitions(self.resources)
        self.instance, self.incident_dir, self.slack = instance, tmp_path / "incidents", slack
        self.engine = self.resources["store"].engine()

    def run_day(self, day: str, **shift: float) -> dg.ExecuteInProcessResult:
        config = {"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 2000, **shift}}}}
        return self.definitions.resolve_job_def("daily_canary").execute_in_process(
            instance=self.instance,
            partition_key=day,
            run_config=config,
            raise_on_error=False,
            asset_selection=DAY_ASSETS,
        )

    def tick(self, cursor: str | None) -> tuple[list[dg.RunRequest], str, str | None]:
        sensor = self.definitions.resolve_sensor_def("canary_drift_sensor")
        context = dg.build_sensor_context(instance=self.instance, cursor=cursor, definitions=self.definitions)
        result = sensor.evaluate_tick(context)
        return list(result.run_requests or []), result.cursor, result.skip_message

    def respond(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        job = self.definitions.resolve_job_def("breach_response")
        return job.execute_in_process(
            instance=self.instance, run_config=request.run_config, tags=request.tags
        )


def checks(result) -> dict[str, bool]:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}


def routing_materialization(result) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == keys.ROUTING]
    return {k: getattr(v, "value", getattr(v, "path", v)) for k, v in event.materialization.metadata.items()}


@pytest.fixture(params=INSTANCE_KINDS)
def world(request, golden, slack, tmp_path, postgres_database_factory):
    slack.received.clear()
    with repo_instance(request.param, tmp_path / "dagster_home", postgres_database_factory) as instance:
        yield World(golden, tmp_path, slack, instance)


def test_the_sensor_decides_and_the_job_acts_once(world):
    normal = world.run_day(NORMAL_DAY)
    assert normal.success
    assert checks(normal) == {"realized_drift_p1": True, "median_shift_p2": True, "schema_errors_p3": True}
    requests, cursor, skip = world.tick(None)
    assert requests == [] and "no new breaches" in skip and int(cursor) > 0

    shifted = world.run_day(SHIFTED_DAY, **SHIFT)
    assert not shifted.success  # the blocking P1 check fails the canary step...
    assert checks(shifted) == {"realized_drift_p1": False, "median_shift_p2": False, "schema_errors_p3": True}
    done = {e.asset_key for e in shifted.get_asset_materialization_events()}
    assert keys.CANARY_VERDICT not in done  # ...and skips the day's verdict

    requests, after, _ = world.tick(cursor)
    assert sorted(r.run_key for r in requests) == [
        f"median_shift_p2/{SHIFTED_DAY}",
        f"realized_drift_p1/{SHIFTED_DAY}",
    ]
    assert world.tick(after)[0] == [] and int(after) > int(cursor)
    p1 = next(r for r in requests if r.run_key.startswith("realized_drift_p1"))
    assert p1.tags["costsim/priority"] == "P1"
    assert world.definitions.resolve_sensor_def("canary_drift_sensor").job_name == "breach_response"

    # Two sensors asking for the same runs: one transition, one incident, one message per breach.
    first = [world.respond(r) for r in requests]
    again = [world.respond(r) for r in world.tick(cursor)[0]]
    assert all(r.success for r in first + again)
    disabled = routing_materialization(first[[r.run_key for r in requests].index(p1.run_key)])
    assert (disabled["state"], disabled["transition"], disabled["alert_delivery"]) == (
        "disabled",
        "enabled -> disabled",
        "delivered",
    )
    assert disabled["incident_file"].endswith(".md") and "above_median" in disabled["detail"]
    repeated = [routing_materialization(r) for r in again]
    assert {m["transition"] for m in repeated} == {"none"} and {m["alert_delivery"] for m in repeated} == {
        "already sent"
    }
    with world.engine.connect() as conn:
        state, incidents = read_routing_state(conn), list_incidents(conn)
        transitions = (
            conn.execute(sa.select(status_history).where(status_history.c.entity_type == "v2_routing"))
            .mappings()
            .all()
        )
    assert not state.enabled and [i["kind"] for i in incidents] == ["realized_drift_p1"]
    assert [(t["old_status"], t["new_status"], t["correlation_id"]) for t in transitions] == [
        ("enabled", "disabled", incidents[0]["id"])
    ]
    files = sorted(p.name for p in world.incident_dir.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".md")
    incident = json.loads((world.incident_dir / files[0]).read_text())
    assert incident["evidence"]["value"] > incident["evidence"]["threshold"] == 5.0
    assert incident["evidence"]["moved"] == ["inputs", "output_lengths"]
    assert incident["evidence"]["diff_artifacts"].endswith("diff_pairs.parquet")
    texts = [m["text"] for m in world.slack.received]
    assert all("Moved: inputs, output_lengths." in t for t in texts)
    assert sum("[P2]" in t for t in texts) == 1 and sum("[P1]" in t for t in texts) == 1

    # A rerun of the day: new executions, the same run keys, nothing new once they run.
    world.run_day(SHIFTED_DAY, **SHIFT)
    rerun, _, _ = world.tick(after)
    assert sorted(r.run_key for r in rerun) == sorted(r.run_key for r in requests)
    assert all(world.respond(r).success for r in rerun)
    with world.engine.connect() as conn:
        assert len(list_incidents(conn)) == 1
    assert len(world.slack.received) == 2


def schema_error_rows(day: str, count: int) -> list[dict]:
    """Rejected plans as the API records them: provenance with V2 status schema_error, no V1 half."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return [
        {
            "id": str(uuid.uuid4()),
            "created_at": start + timedelta(seconds=10 * i + 5),
            "tenant_id": "tenant-a",
            "request_id": uuid.uuid4().hex,
            "plan_z": compress({"steps": "not a list"}),
            "code_version": "test",
            "v2_status": "schema_error",
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("world", ["sqlite_sharded"], indirect=True)
def test_schema_errors_open_a_p3_incident_while_v2_is_already_disabled(world):
    world.run_day(SCHEMA_DAY)  # the day's replayed traffic, then 10 % of it rejected by the schema
    with world.resources["store"].sandbox_engine().begin() as conn:
        insert_provenance(conn, schema_error_rows(SCHEMA_DAY, 200))
    with world.engine.begin() as conn:
        transition_routing(conn, to_state="disabled", actor_type="person", actor_id="oncall", reason="drill")
    day = world.run_day(SCHEMA_DAY)
    assert checks(day)["schema_errors_p3"] is False
    requests, _, _ = world.tick(None)
    assert [r.run_key for r in requests] == [f"schema_errors_p3/{SCHEMA_DAY}"]
    metadata = routing_materialization(world.respond(requests[0]))
    assert (metadata["action"], metadata["state"], metadata["transition"]) == ("incident", "disabled", "none")
    assert metadata["alert_delivery"] == "delivered" and metadata["incident_file"].endswith(".md")
    with world.engine.connect() as conn:
        [incident] = list_incidents(conn)
        [delivery] = list_deliveries(conn)
    assert incident["priority"] == "P3" and incident["evidence"]["value"] > 0.05
    assert (
        delivery["dedupe_key"] == f"schema_errors_p3/{SCHEMA_DAY}" and "[P3]" in delivery["payload"]["text"]
    )
    scraped = {
        s.name: s.value
        for f in text_string_to_metric_families(
            render_metrics(world.engine, world.resources["store"].sandbox_engine()).decode()
        )
        for s in f.samples
    }
    assert scraped["costsim_routing_enabled"] == 0


def test_the_routing_sensor_shows_manual_transitions_on_the_routing_asset(tmp_path):
    store = StoreResource(database_url=f"sqlite:///{tmp_path}/store.db")
    definitions = build_definitions(make_resources(tmp_path / "artifacts", store.database_url))
    sensor = definitions.resolve_sensor_def("routing_transitions_sensor")
    with store.engine().begin() as conn:
        transition_routing(conn, to_state="disabled", actor_type="person", actor_id="oncall", reason="drill")
        transition_routing(
            conn, to_state="enabled", actor_type="canary", actor_id="daily_canary", reason="3 passes"
        )
    with repo_instance("sqlite_sharded", tmp_path / "dagster_home", None) as instance:
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources={"store": store}))
        again = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"store": store})
        )
    observed = [
        (o.asset_key, o.metadata["transition"].value, o.metadata["actor"].value) for o in result.asset_events
    ]
    assert observed == [
        (keys.ROUTING, "enabled -> disabled", "person:oncall"),
        (keys.ROUTING, "disabled -> enabled", "canary:daily_canary"),
    ]
    assert again.asset_events == [] and again.cursor == result.cursor


def test_the_cursor_waits_below_a_check_still_in_flight(tmp_path):
    """An execution row is created when the check is planned and completed in place later, so the
    cursor must not pass it while its run is going. A stand-in for canary/drift waits until told."""
    release = threading.Event()

    @dg.asset(
        key=keys.CANARY_DRIFT,
        check_specs=[dg.AssetCheckSpec(c.name, asset=keys.CANARY_DRIFT) for c in CHECKS],
    )
    def stand_in():
        release.wait(120)
        metadata = {"partition": "2026-11-25", "outcome": "breach", "threshold": 0.2, "value": 0.5}
        return dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(check_name=c.name, passed=False, metadata=metadata) for c in CHECKS
            ]
        )

    with repo_instance("sqlite_sharded", tmp_path / "dagster_home", None) as instance:
        run = threading.Thread(target=dg.materialize, args=([stand_in],), kwargs={"instance": instance})
        run.start()
        key = dg.AssetCheckKey(keys.CANARY_DRIFT, CHECKS[0].name)
        while not instance.event_log_storage.get_asset_check_execution_history(key, limit=1):
            time.sleep(0.1)
        planned = min(
            r.id
            for c in CHECKS
            for r in instance.event_log_storage.get_asset_check_execution_history(
                dg.AssetCheckKey(keys.CANARY_DRIFT, c.name), limit=1
            )
        )
        requests, cursor, _ = decide(instance, 0)
        release.set()
        run.join(120)
        after, _, seen = decide(instance, cursor)
    assert requests == [] and cursor == planned - 1
    assert (
        sorted(r.run_key for r in after) == sorted(f"{c.name}/2026-11-25" for c in CHECKS) and len(seen) == 3
    )
