"""Building reference datasets: records -> validated plans -> ground truth -> tables + manifest.

Each dataset is two tables: one row per record (plan, plan-level truth) and one row per step of
every schema-valid plan (step-level truth: tokens, cost, latency, status), the shape realized
outcomes have too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from costsim_assets.reference_data.execution_model import Conditions, Execution, execute
from costsim_assets.reference_data.historical import HISTORICAL_MODEL
from costsim_assets.reference_data.synthetic import GENERATORS, city_multipliers
from costsim_assets.reference_data.task_types import (
    CITY_TASK_MIX,
    DATASET_TASK_MIX,
    TASK_TYPES,
    OutputLengthPool,
)
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
STEP_COLUMNS = (
    "record_id",
    "step_index",
    "skill",
    "model",
    "task_type",
    "prompt_tokens",
    "billed_input_tokens",
    "cached_tokens",
    "output_tokens",
    "attempts",
    "cost_cents",
    "latency_ms",
    "status",
)


@dataclass(frozen=True)
class ReferenceDataset:
    """A golden dataset: records (plans + plan truth) and steps (step truth of valid plans)."""

    records: pd.DataFrame
    steps: pd.DataFrame
    sources: dict = field(default_factory=dict)


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


def _conditions(name: str, frame: pd.DataFrame) -> Conditions:
    """Task mix, hour and (mixed_city) regional multipliers of every schema-valid record."""
    hour = frame["ts"].dt.hour.to_numpy()
    if "city" not in frame:
        mix = np.tile(DATASET_TASK_MIX[name], (len(frame), 1))
        return Conditions(task_mix=mix, hour=hour)
    cities = frame["city"].tolist()
    latency, price = city_multipliers(cities)
    mix = np.array([CITY_TASK_MIX[city] for city in cities])
    return Conditions(task_mix=mix, hour=hour, latency_multiplier=latency, price_multiplier=price)


def _step_truth(batch: PlanBatch, record_ids: np.ndarray, outcome: Execution) -> pd.DataFrame:
    """One row per executed step, in plan order."""
    model_names = np.array([*batch.model_names, ""], dtype=object)
    task_names = np.array([*TASK_TYPES, ""], dtype=object)
    return pd.DataFrame(
        {
            "record_id": record_ids[batch.step_plan_index],
            "step_index": np.arange(len(batch.step_skill_id)) - batch.step_offsets[batch.step_plan_index],
            "skill": np.array(batch.skill_names, dtype=object)[batch.step_skill_id],
            "model": model_names[batch.step_model_id],
            "task_type": task_names[outcome.step_task_type],
            "prompt_tokens": outcome.step_prompt_tokens,
            "billed_input_tokens": outcome.step_billed_input_tokens,
            "cached_tokens": outcome.step_cached_tokens,
            "output_tokens": outcome.step_output_tokens,
            "attempts": outcome.step_attempts,
            "cost_cents": outcome.step_cost_cents,
            "latency_ms": outcome.step_latency_ms,
            "status": np.where(outcome.step_failed, "failed", "ok"),
        },
        columns=list(STEP_COLUMNS),
    )


def _with_ground_truth(
    name: str, frame: pd.DataFrame, prices: PriceTable, pool: OutputLengthPool, rng: np.random.Generator
) -> ReferenceDataset:
    plans, valid, _ = parse_plans(frame["plan_json"].tolist())
    batch = PlanBatch.from_plans(plans)
    outcome = execute(batch, prices, pool, _conditions(name, frame.loc[valid]), rng)
    for column, values in (
        ("actual_cost_cents", outcome.cost_cents),
        ("actual_duration_ms", outcome.duration_ms),
    ):
        frame[column] = np.nan
        frame.loc[valid, column] = values
    frame["actual_failed"] = pd.array([pd.NA] * len(frame), dtype="boolean")
    frame.loc[valid, "actual_failed"] = outcome.failed
    steps = _step_truth(batch, frame.loc[valid, "record_id"].to_numpy(), outcome)
    mix = (
        {"task_mix": dict(zip(TASK_TYPES, DATASET_TASK_MIX[name], strict=True))}
        if name in DATASET_TASK_MIX
        else {}
    )
    return ReferenceDataset(frame[list(BASE_COLUMNS)], steps, {"output_lengths": pool.describe(), **mix})


def build_synthetic(name: str, prices: PriceTable, pool: OutputLengthPool) -> ReferenceDataset:
    """The named synthetic dataset, identical for identical seeds and output-length pools."""
    spec = SYNTHETIC_SPECS[name]
    rng = np.random.default_rng(spec.seed)
    frame = pd.DataFrame(GENERATORS[name](rng, spec.rows))
    frame["plan_json"] = [plan_json(p) for p in frame.pop("plan")]
    frame["split"] = "eval"
    return _with_ground_truth(name, frame, prices, pool, rng)


def finish_historical(records: pd.DataFrame) -> pd.DataFrame:
    """Historical records in the dataset column order."""
    frame = records.copy()
    frame["plan_json"] = [plan_json(p) for p in frame.pop("plan")]
    frame["actual_failed"] = frame["actual_failed"].astype("boolean")
    return frame[list(HISTORICAL_COLUMNS)]


def historical_dataset(records: pd.DataFrame, trace_sha256: str) -> ReferenceDataset:
    """Finished historical records, their step truth and where both came from."""
    return ReferenceDataset(records, historical_steps(records), {"trace_sha256": trace_sha256})


def historical_steps(records: pd.DataFrame) -> pd.DataFrame:
    """Step truth of the historical set: one llm_invoke per request, real tokens, no latency."""
    n = len(records)
    tokens_in = records["context_tokens"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "record_id": records["record_id"].to_numpy(),
            "step_index": np.zeros(n, dtype=np.int64),
            "skill": "llm_invoke",
            "model": HISTORICAL_MODEL,
            "task_type": "",
            "prompt_tokens": tokens_in,
            "billed_input_tokens": tokens_in,
            "cached_tokens": np.zeros(n),
            "output_tokens": records["generated_tokens"].to_numpy(np.float64),
            "attempts": np.ones(n, dtype=np.int64),
            "cost_cents": records["actual_cost_cents"].to_numpy(np.float64),
            "latency_ms": np.full(n, np.nan),
            "status": "ok",
        },
        columns=list(STEP_COLUMNS),
    )


def content_sha256(frame: pd.DataFrame) -> str:
    """Hash of the rows themselves (CSV, fixed float format): independent of Parquet bytes."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.9g")
    return hashlib.sha256(text.encode()).hexdigest()


def schema_of(frame: pd.DataFrame) -> dict[str, str]:
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}
