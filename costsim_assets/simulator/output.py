"""Simulation outputs as arrays, and the per-plan JSON document callers receive."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import STATUS_CODES, STATUSES
from costsim_assets.simulator.skills import ALL_SKILL_LABELS, UNKNOWN_CODE

RISK_TYPES: dict[str, str] = {
    "http_call": "timeout",
    "llm_invoke": "rate_limit",
    "json_transform": "transform_error",
    "fs_read": "not_found",
    "fs_write": "permission",
    "shell_lite": "timeout",
    "kv_get": "not_found",
    "kv_set": "quota",
    "webhook_send": "timeout",
    "email_send": "delivery",
    "unknown": "unknown",
}
REPORTED_RISK_ABOVE = 0.05
INTERVAL_FIELDS = (
    "median_cost_cents",
    "cost_low_cents",
    "cost_high_cents",
    "duration_low_ms",
    "duration_high_ms",
    "confidence",
)
TOKEN_FIELDS = ("expected", "p50", "low", "high")
CALIBRATION_FIELDS = ("coverage", "share_below_low", "share_above_high", "share_above_p50")
STEP_COST_FIELDS = ("median_cost_cents", "cost_low_cents", "cost_high_cents")


def _optional(value: float) -> float | None:
    """JSON-ready: NaN (nothing to report, e.g. confidence of a plan without LLM steps) -> None."""
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class StepPredictions:
    """V2's output-token distribution per step; NaN (and segment -1) on steps that are not LLM calls.

    `calibration` is the segment's record on its calibration window (coverage of the interval,
    shares below low / above high / above the median), which is what `confidence` reports.
    """

    segment: np.ndarray
    segment_names: tuple[str, ...]
    input_tokens: np.ndarray
    output_tokens: dict[str, np.ndarray]
    calibration: dict[str, np.ndarray]
    cost: dict[str, np.ndarray]

    def document(self, step: int) -> dict[str, Any]:
        """The prediction fields of one step's document (empty for a step without a segment)."""
        if self.segment[step] < 0:
            return {}
        return {
            "segment": self.segment_names[self.segment[step]],
            "output_tokens": {k: float(v[step]) for k, v in self.output_tokens.items()},
            "calibration": {k: float(v[step]) for k, v in self.calibration.items()},
            **{k: float(self.cost[k][step]) for k in STEP_COST_FIELDS},
        }


@dataclass(frozen=True)
class SimulationOutput:
    """Deterministic outputs of one simulator version for a batch (plan and step arrays)."""

    version: str
    status: np.ndarray
    cost_cents: np.ndarray
    duration_ms: np.ndarray
    budget_remaining_cents: np.ndarray
    cumulative_risk: np.ndarray
    step_offsets: np.ndarray
    step_cost_cents: np.ndarray
    step_latency_ms: np.ndarray
    step_failure_p: np.ndarray
    intervals: dict[str, np.ndarray] = field(default_factory=dict)
    whole_cents: bool = False
    steps: StepPredictions | None = None

    @property
    def feasible(self) -> np.ndarray:
        return self.status == STATUS_CODES["FEASIBLE"]

    def plan_result(self, index: int, batch: PlanBatch) -> dict[str, Any]:
        """The full output document for one plan (what the simulate endpoint returns)."""
        money = int if self.whole_cents else float
        steps = _step_documents(self, batch, index, money)
        result: dict[str, Any] = {
            "version": self.version,
            "feasible": bool(self.feasible[index]),
            "status": STATUSES[self.status[index]],
            "estimated_cost_cents": money(self.cost_cents[index]),
            "estimated_duration_ms": float(self.duration_ms[index]),
            "budget_remaining_cents": money(self.budget_remaining_cents[index]),
            "cumulative_risk": float(self.cumulative_risk[index]),
            "steps": steps,
            "risks": [
                {
                    "step_index": s["index"],
                    "skill": s["skill"],
                    "risk_type": s["risk_type"],
                    "probability": s["failure_probability"],
                }
                for s in steps
                if s["failure_probability"] > REPORTED_RISK_ABOVE
            ],
            "warnings": list(
                dict.fromkeys(
                    f"unknown skill '{s['skill']}' estimated with default values"
                    for s in steps
                    if not s["known"]
                )
            ),
        }
        for name, values in self.intervals.items():
            result[name] = _optional(float(values[index]))
        for step in steps:
            del step["known"]
        return result


def _step_documents(output: SimulationOutput, batch: PlanBatch, index: int, money) -> list[dict]:
    codes = batch.step_skill_code
    documents = []
    start, stop = output.step_offsets[index], output.step_offsets[index + 1]
    for position, step in enumerate(range(start, stop)):
        label = ALL_SKILL_LABELS[codes[step]]
        documents.append(
            {
                "index": position,
                "skill": batch.step_skill_name(step),
                "cost_cents": money(output.step_cost_cents[step]),
                "latency_ms": float(output.step_latency_ms[step]),
                "failure_probability": float(output.step_failure_p[step]),
                "risk_type": RISK_TYPES[label],
                "known": bool(codes[step] != UNKNOWN_CODE),
                **(output.steps.document(step) if output.steps is not None else {}),
            }
        )
    return documents
