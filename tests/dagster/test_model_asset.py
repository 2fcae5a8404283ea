"""Everything that simulates with V2 reads the artifact the model asset wrote, and says which."""

import dagster as dg
import numpy as np
import pandas as pd

from costsim_assets.artifacts.files import write_text
from costsim_assets.definitions import build_definitions
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_model import artifact_text, load_v2_model
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.training.fit import fit_v2_artifact

KEYS = (
    "reference/low_variance",
    "models/v2_model",
    "simulation/low_variance_v1",
    "simulation/low_variance_v2",
)


def run(resources: dict, *keys: str) -> dg.ExecuteInProcessResult:
    job = build_definitions(resources).resolve_job_def("m6_validation")
    selection = [dg.AssetKey.from_user_string(key) for key in keys]
    return job.execute_in_process(asset_selection=selection, raise_on_error=False)


def challenger() -> dict:
    """A different artifact: fitted on a made-up hour of calls with long outputs."""
    rng = np.random.default_rng(8)
    n = 3000
    observations = pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "tenant_id": None,
            "model": "gpt-4o",
            "input_tokens": rng.integers(10, 5000, n).astype(float),
            "output_tokens": np.round(rng.lognormal(np.log(200), 0.7, n)),
            "latency_ms": np.nan,
        }
    )
    return fit_v2_artifact(observations, prices=load_price_table(), priors=load_priors(), source={"test": 1})


def test_simulations_use_the_materialized_model_and_metrics_refuse_a_stale_one(sqlite_resources):
    artifacts = sqlite_resources["artifacts"]
    assert run(sqlite_resources, *KEYS, "validation/low_variance_metrics").success
    assert load_v2_model(artifacts.v2_model_file()).version == load_v2_model().version
    other = challenger()
    write_text(artifacts.v2_model_file(), artifact_text(other))
    stale = run(sqlite_resources, "validation/low_variance_metrics")
    assert not stale.success
    failure = next(e for e in stale.all_events if e.event_type_value == "STEP_FAILURE")
    assert other["version"] in str(failure.event_specific_data.error)
    fresh = run(sqlite_resources, "simulation/low_variance_v2")
    [event] = fresh.get_asset_materialization_events()
    assert event.materialization.metadata["model_version"].value == other["version"]
