"""Running V1 or V2 over a reference dataset: per-record outputs joined to ground truth, and V2's
per-step output-token predictions beside the naive baselines' (what validation scores)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.reference_data.build import parse_plans
from costsim_assets.simulator.baselines import naive_forecasts
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import STATUSES
from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.output import SimulationOutput
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model

GROUND_TRUTH = ("actual_cost_cents", "actual_duration_ms", "actual_failed")


def _run(dataset: pd.DataFrame, version: str, model: V2Model | None):
    plans, valid, _ = parse_plans(dataset["plan_json"].tolist())
    batch = PlanBatch.from_plans(plans)
    output: SimulationOutput = evaluate_v2(batch, model) if version == "v2" else evaluate_v1(batch)
    return batch, valid, output


def simulate(dataset: pd.DataFrame, version: str, model: V2Model | None = None) -> pd.DataFrame:
    """One output row per schema-valid record: hashes, status, estimates, ground truth.

    V2 rows also carry each naive baseline's plan cost (`baseline_<name>_cost_cents`).
    """
    batch, valid, output = _run(dataset, version, model)
    frame = dataset.loc[valid, ["record_id", "tenant_id", *GROUND_TRUTH]].reset_index(drop=True)
    frame.insert(2, "version", output.version)
    frame.insert(3, "input_hash", input_hashes(batch))
    frame.insert(4, "output_hash", output_hashes(output))
    frame["status"] = [STATUSES[code] for code in output.status]
    frame["cost_cents"] = output.cost_cents
    frame["duration_ms"] = output.duration_ms
    frame["cumulative_risk"] = output.cumulative_risk
    for name, values in output.intervals.items():
        frame[name] = values
    if output.steps is not None:
        for name, forecast in naive_forecasts(batch, model, output.steps).items():
            frame[f"baseline_{name}_cost_cents"] = forecast.plan_cost
    return frame


def step_predictions(dataset: pd.DataFrame, model: V2Model) -> pd.DataFrame:
    """V2's prediction for every LLM step of the schema-valid records, with the baselines' tokens."""
    batch, valid, output = _run(dataset, "v2", model)
    steps = output.steps
    llm = np.flatnonzero(steps.segment >= 0)
    plan = batch.step_plan_index[llm]
    frame = pd.DataFrame(
        {
            "record_id": dataset.loc[valid, "record_id"].to_numpy()[plan],
            "step_index": llm - batch.step_offsets[plan],
            "segment": np.array(steps.segment_names, dtype=object)[steps.segment[llm]],
            "input_tokens": steps.input_tokens[llm],
        }
    )
    for name, values in {**steps.output_tokens, **steps.calibration}.items():
        frame[f"tokens_{name}" if name in steps.output_tokens else name] = values[llm]
    for name, forecast in naive_forecasts(batch, model, steps).items():
        frame[f"baseline_{name}_tokens"] = forecast.step_tokens[llm]
    return frame
