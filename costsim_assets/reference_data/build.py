"""Building reference datasets: records -> validated plans -> ground truth -> table + manifest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costsim_assets.reference_data.execution_model import execute
from costsim_assets.reference_data.synthetic import GENERATORS, city_multipliers
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.simulator.prices import PriceTable


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    seed: int
    rows: int
    description: str


SYNTHETIC_SPECS: dict[str, DatasetSpec] = {
    "low_variance": DatasetSpec("low_variance", 101, 2000, "simple, cheap, predictable plans"),
    "high_variance": DatasetSpec("high_variance", 202, 2000, "LLM-heavy long plans, external calls"),
    "mixed_city": DatasetSpec("mixed_city", 303, 3000, "five cities: skill mix, hours, latency, price"),
    "noise_injected": DatasetSpec("noise_injected", 404, 2000, "clean mix with injected noise"),
}
HISTORICAL = "historical"
DATASET_NAMES: tuple[str, ...] = (*SYNTHETIC_SPECS, HISTORICAL)
BASE_COLUMNS = (
    "record_id",
    "tenant_id",
    "region",
    "ts",
    "plan_json",
    "noise",
    "actual_cost_cents",
    "actual_duration_ms",
    "actual_failed",
    "split",
)
HISTORICAL_COLUMNS = (*BASE_COLUMNS, "context_tokens", "generated_tokens")


def plan_json(plan) -> str:
    """Stored form of a record's plan: canonical JSON, or the raw text of a malformed record."""
    return plan if isinstance(plan, str) else json.dumps(plan, sort_keys=True, separators=(",", ":"))


def parse_plans(texts) -> tuple[list[Plan], np.ndarray, list[tuple[int, list]]]:
    """Validate stored plans: (valid plans, valid mask, [(row, issues)] for the invalid ones)."""
    plans, valid, invalid = [], np.zeros(len(texts), dtype=bool), []
    for row, text in enumerate(texts):
        result = validate_plan(text)
        if isinstance(result, Plan):
            plans.append(result)
            valid[row] = True
        else:
            invalid.append((row, result))
    return plans, valid, invalid


def _with_ground_truth(frame: pd.DataFrame, prices: PriceTable, rng: np.random.Generator) -> pd.DataFrame:
    plans, valid, _ = parse_plans(frame["plan_json"].tolist())
    latency_mult = price_mult = None
    if "city" in frame:
        latency_mult, price_mult = city_multipliers(frame.loc[valid, "city"].tolist())
    outcome = execute(PlanBatch.from_plans(plans), prices, rng, latency_mult, price_mult)
    for column, values in (
        ("actual_cost_cents", outcome.cost_cents),
        ("actual_duration_ms", outcome.duration_ms),
    ):
        frame[column] = np.nan
        frame.loc[valid, column] = values
    frame["actual_failed"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    frame.loc[valid, "actual_failed"] = outcome.failed
    return frame


def build_synthetic(name: str, prices: PriceTable) -> pd.DataFrame:
    """The named synthetic dataset, identical for identical seeds."""
    spec = SYNTHETIC_SPECS[name]
    rng = np.random.default_rng(spec.seed)
    frame = pd.DataFrame(GENERATORS[name](rng, spec.rows))
    frame["plan_json"] = [plan_json(p) for p in frame.pop("plan")]
    frame["split"] = "eval"
    return _with_ground_truth(frame, prices, rng)[list(BASE_COLUMNS)]


def finish_historical(records: pd.DataFrame) -> pd.DataFrame:
    """Historical records in the dataset column order."""
    frame = records.copy()
    frame["plan_json"] = [plan_json(p) for p in frame.pop("plan")]
    frame["actual_failed"] = frame["actual_failed"].astype("boolean")
    return frame[list(HISTORICAL_COLUMNS)]


def content_sha256(frame: pd.DataFrame) -> str:
    """Hash of the rows themselves (CSV, fixed float format): independent of Parquet bytes."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.9g")
    return hashlib.sha256(text.encode()).hexdigest()


def schema_of(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}
