"""Running V1 or V2 over a reference dataset: per-record outputs joined to ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.reference_data.build import parse_plans
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import STATUSES
from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.output import SimulationOutput
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model

GROUND_TRUTH = ("actual_cost_cents", "actual_duration_ms", "actual_failed")


def simulate(dataset: pd.DataFrame, version: str, model: V2Model | None = None) -> pd.DataFrame:
    """One output row per schema-valid record: hashes, status, estimates, ground truth."""
    plans, valid, _ = parse_plans(dataset["plan_json"].tolist())
    batch = PlanBatch.from_plans(plans)
    output: SimulationOutput = evaluate_v2(batch, model) if version == "v2" else evaluate_v1(batch)
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
    return frame


def interval_coverage(outputs: pd.DataFrame) -> float:
    """Share of records whose actual cost fell inside V2's predicted cost interval."""
    if "cost_low_cents" not in outputs or outputs.empty:
        return float("nan")
    actual = outputs["actual_cost_cents"].to_numpy()
    inside = (actual >= outputs["cost_low_cents"].to_numpy() - 1e-9) & (
        actual <= outputs["cost_high_cents"].to_numpy() + 1e-9
    )
    return float(np.mean(inside))
