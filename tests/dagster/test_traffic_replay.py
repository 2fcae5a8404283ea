"""The traffic replay asset: real outcomes, shifts from run config, routing respected, any trace."""

import hashlib

import dagster as dg
import pytest
import sqlalchemy as sa

from costsim_assets.artifacts.files import write_text
from costsim_assets.definitions import build_definitions
from costsim_assets.defs.resources import ReferenceDataResource
from costsim_assets.reference_data.historical import read_trace_bytes
from costsim_assets.sandbox.replay import trace_requests
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_model import artifact_text, load_v2_model
from costsim_assets.store.routing import transition_routing
from costsim_assets.store.tables import outcome_steps, outcomes, provenance
from tests.dagster.conftest import TRACE, make_resources

DAY = "2026-11-24"
KEY = dg.AssetKey(["sandbox", "traffic_replay"])


def replay(resources: dict, **config) -> dg.ExecuteInProcessResult:
    job = build_definitions(resources).resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[KEY],
        partition_key=DAY,
        run_config={"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 200, **config}}}},
        raise_on_error=False,
    )


def stored(resources: dict) -> tuple[list, list]:
    with resources["store"].sandbox_engine().connect() as conn:
        statuses = conn.execute(sa.select(provenance.c.v2_status)).scalars().all()
        steps = conn.execute(
            sa.select(outcome_steps.c.output_tokens, outcome_steps.c.cost_cents)
            .join(outcomes, outcomes.c.provenance_id == outcome_steps.c.provenance_id)
            .where(outcomes.c.source == "replay")
        ).all()
    return statuses, steps


@pytest.fixture
def resources(tmp_path) -> dict:
    """SQLite resources with the historical dataset's replayable columns already written."""
    made = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    path = made["artifacts"].dataset_file("historical")
    path.parent.mkdir(parents=True)
    trace_requests(read_trace_bytes(TRACE), "test-salt", load_price_table()).to_parquet(path)
    write_text(made["artifacts"].v2_model_file(), artifact_text(load_v2_model().artifact))  # models/v2_model
    return made


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_replay_records_outcomes_and_respects_disabled_routing(resources):
    with resources["store"].engine().begin() as conn:
        transition_routing(conn, to_state="disabled", actor_type="person", actor_id="test", reason="drill")
    result = replay(resources, output_scale=1.3, price_scale=2.0)
    assert result.success
    facts = metadata(result)
    assert facts["rows_added"] == 200 and facts["v2"] == "skipped (routing disabled)"
    assert facts["source"] == "historical" and facts["output_scale"] == 1.3 and facts["price_scale"] == 2.0
    assert facts["model_version"].startswith("v2-")
    statuses, steps = stored(resources)
    assert set(statuses) == {"skipped"} and len(steps) == 200
    assert metadata(replay(resources, output_scale=1.3, price_scale=2.0))["rows_added"] == 0


def test_replay_runs_v2_when_routing_allows(resources):
    assert metadata(replay(resources))["v2"] == "ran"
    assert set(stored(resources)[0]) == {"ok"}


def write_trace(path, generated: int) -> str:
    rows = [f"2023-11-16 18:{m:02d}:00.0000000,{100 + m},{generated}" for m in range(40)]
    path.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\r\n" + "\r\n".join(rows))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def replaying(trace, sha256: str) -> ReferenceDataResource:
    return ReferenceDataResource(
        historical_source=TRACE,
        anonymization_salt="test-salt",
        replay_source=str(trace),
        replay_sha256=sha256,
    )


def test_replay_reads_any_azure_format_trace_it_can_verify(resources, tmp_path):
    trace = tmp_path / "other_service.csv"
    digest = write_trace(trace, generated=777)
    resources["reference_data"] = replaying(trace, digest)
    result = replay(resources)
    assert result.success and metadata(result)["source"] == "replay_source"
    assert {tokens for tokens, _ in stored(resources)[1]} == {777}


@pytest.mark.parametrize("sha256", ["", "0" * 64])
def test_an_unverifiable_replay_trace_fails_naming_the_settings(resources, tmp_path, sha256):
    trace = tmp_path / "other_service.csv"
    write_trace(trace, generated=5)
    resources["reference_data"] = replaying(trace, sha256)
    result = replay(resources)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "COSTSIM_REPLAY_SOURCE and COSTSIM_REPLAY_SHA256" in str(failure.event_specific_data.error)
    assert stored(resources) == ([], [])
