"""A service switch absorbed, end to end on a real instance (the repository's dagster.yaml): traffic
moves to a service whose outputs are three times longer. Day 1 the canary trips P1 and the kill
switch disables V2; after two breaching days a challenger is refitted on their outcomes, passes on
two days it was not fitted on, and is promoted (auto-promotion configured) with both versions in the
history; the new champion's coverage is back at nominal +- 5 points and two passing canaries re-enable
V2 (hysteresis configured)."""

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml

from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.defs.resources import CanaryResource
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.models import champion
from costsim_assets.store.routing import read_routing_state
from costsim_assets.store.tables import status_history
from tests.dagster.conftest import make_resources, repo_instance

DAYS = [f"2026-11-{d:02d}" for d in range(10, 17)]
SWITCH = {"requests_per_day": 2000, "output_scale": 3.0}  # another kind of LLM service, from the code trace
PACKAGED = Path(__file__).resolve().parents[2] / "costsim_assets" / "config" / "canary.yaml"


def canary_config(tmp_path: Path) -> str:
    config = yaml.safe_load(PACKAGED.read_text())
    config["reenable_after_passes"] = 2
    config["recalibration"] = {"window_days": 2, "validation_days": 2, "auto_promote": True}
    path = tmp_path / "canary.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture
def world(tmp_path, postgres_database_factory):
    resources = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    resources["canary"] = CanaryResource(
        config_file=canary_config(tmp_path), incident_dir=str(tmp_path / "inc")
    )
    definitions = build_definitions(resources)
    with repo_instance("sqlite_sharded", tmp_path / "dagster_home", postgres_database_factory) as instance:
        setup = [*(keys.reference(n) for n in DATASET_NAMES), keys.MODEL]
        assert (
            definitions.resolve_job_def("m6_validation")
            .execute_in_process(instance=instance, asset_selection=setup)
            .success
        )
        yield definitions, instance, resources


def run_day(definitions, instance, day: str) -> dg.ExecuteInProcessResult:
    """The day's job, then what the daemon does before the next day: a drift-sensor tick and the
    breach-response runs it asks for (run keys already run are not run again)."""
    job = definitions.resolve_job_def("daily_canary")
    config = {"ops": {"sandbox__traffic_replay": {"config": SWITCH}}}
    result = job.execute_in_process(
        instance=instance, partition_key=day, run_config=config, raise_on_error=False
    )
    context = dg.build_sensor_context(instance=instance, definitions=definitions)
    tick = definitions.resolve_sensor_def("canary_drift_sensor").evaluate_tick(context)
    done = {run.tags.get("dagster/run_key") for run in instance.get_runs()}
    for request in tick.run_requests or []:
        if request.run_key not in done:
            tags = {**request.tags, "dagster/run_key": request.run_key}
            response = definitions.resolve_job_def("breach_response")
            assert response.execute_in_process(
                instance=instance, run_config=request.run_config, tags=tags
            ).success
    return result


def materialized(result, key: dg.AssetKey) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def p1(result) -> bool:
    return {c.check_name: c.passed for c in result.get_asset_check_evaluations()}["realized_drift_p1"]


def test_a_service_switch_trips_then_is_absorbed_by_a_validated_challenger(world):
    definitions, instance, resources = world
    engine = resources["store"].engine()
    bootstrap = materialized(run_day(definitions, instance, DAYS[0]), keys.MODEL)["champion_version"]
    with engine.connect() as conn:
        assert not read_routing_state(conn).enabled  # day 1: tripped, V2 disabled

    second = run_day(definitions, instance, DAYS[1])
    assert not p1(second)
    refit = materialized(second, keys.CHALLENGER)
    assert refit["challenger_role"] == "challenger" and "fitted on" in refit["action"]
    challenger = refit["challenger_version"]

    third = run_day(definitions, instance, DAYS[2])  # unseen day 1: the champion still fails
    assert not p1(third) and materialized(third, keys.CHALLENGER)["challenger_role"] == "challenger"
    fourth = run_day(definitions, instance, DAYS[3])  # unseen day 2: validated, promoted
    assert "-> champion" in materialized(fourth, keys.CHALLENGER)["action"]
    with engine.connect() as conn:
        assert champion(conn)["version"] == challenger != bootstrap
        query = sa.select(status_history).where(status_history.c.entity_type == "v2_model")
        lifecycle = conn.execute(query.order_by(status_history.c.id)).mappings().all()
        assert [(r["old_status"], r["new_status"], r["actor_type"]) for r in lifecycle] == [
            (None, bootstrap, "system"),  # registered
            (bootstrap, challenger, "dagster"),  # fitted on the two breaching days
            ("challenger", "validated", "dagster"),  # passed two unseen days
            (bootstrap, challenger, "canary"),  # promoted: both versions in the row
        ]
        assert read_routing_state(conn).model_version == challenger

    coverages = []
    for day in DAYS[4:6]:
        result = run_day(definitions, instance, day)
        assert materialized(result, keys.MODEL)["champion_version"] == challenger
        assert p1(result) and result.success
        statistics = materialized(result, keys.CANARY_DRIFT)
        assert statistics["model_version"] == challenger and statistics["moved"] == []
        coverages.append(materialized(result, keys.CANARY_DRIFT)["interval_coverage"])
    assert all(0.75 <= c <= 0.85 for c in coverages), coverages
    with engine.connect() as conn:
        state = read_routing_state(conn)
    assert state.enabled and state.actor_type == "canary"  # two passing canaries re-enabled V2
