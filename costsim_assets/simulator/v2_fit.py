"""Fitting the V2 artifact from observations: pure numpy, no I/O.

Output lengths come from real traffic (per context-size bin: mean and an 80 % interval); latency
and failure rates are least-squares / frequency fits on observed steps. Held-out rows measure what
the interval means (its empirical coverage), which V2 then reports as its confidence.
"""

from __future__ import annotations

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.skills import ALL_SKILL_LABELS, SKILL_CODES
from costsim_assets.simulator.v2_model import ARTIFACT_SCHEMA, LATENCY_DESIGN, latency_design, model_version

CONTEXT_EDGES = (0.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0, 8192.0)
MIN_BIN_COUNT = 30
INTERVAL_PERCENTILES = (10.0, 90.0)
CHARS_PER_TOKEN = 4.0
UNOBSERVED_LATENCY = {"coef": [1000.0, 0.0, 0.0, 0.0], "log_sigma": 0.8}
UNOBSERVED_FAILURE_P = 0.2


def _rounded(values) -> list[float]:
    """Round fitted numbers so the artifact (and its hash) is stable across BLAS builds."""
    return [round(float(v), 9) for v in np.atleast_1d(values)]


def fit_output_tokens(context: np.ndarray, generated: np.ndarray) -> dict:
    """Mean and 10th/90th percentile of generated tokens per context-size bin."""
    edges = np.array(CONTEXT_EDGES)
    bins = np.searchsorted(edges, context, side="right") - 1
    mean, low, high, counts = [], [], [], []
    for index in range(len(edges)):
        sample = generated[bins == index]
        counts.append(int(len(sample)))
        if len(sample) < MIN_BIN_COUNT:
            sample = generated
        mean.append(sample.mean())
        low.append(np.percentile(sample, INTERVAL_PERCENTILES[0]))
        high.append(np.percentile(sample, INTERVAL_PERCENTILES[1]))
    return {
        "context_edges": list(CONTEXT_EDGES),
        "mean": _rounded(mean),
        "low": _rounded(low),
        "high": _rounded(high),
        "train_counts": counts,
        "interval_percentiles": list(INTERVAL_PERCENTILES),
    }


def interval_coverage(output_model: dict, context: np.ndarray, generated: np.ndarray) -> float:
    """Share of calls whose generated tokens (hence cost) fell inside the predicted interval."""
    edges = np.array(output_model["context_edges"])
    bins = np.searchsorted(edges, context, side="right") - 1
    low, high = np.array(output_model["low"])[bins], np.array(output_model["high"])[bins]
    return round(float(np.mean((generated >= low) & (generated <= high))), 6)


def _log_sigma(observed: np.ndarray, predicted: np.ndarray) -> float:
    ratio = np.log(np.maximum(observed, 1e-3) / np.maximum(predicted, 1e-3))
    return float(np.std(ratio)) if len(ratio) > 1 else UNOBSERVED_LATENCY["log_sigma"]


def fit_llm_latency(in_tokens: np.ndarray, out_tokens: np.ndarray, latency_ms: np.ndarray) -> dict:
    """latency = intercept + prefill per input token + decode per generated token (least squares)."""
    design = np.column_stack([np.ones(len(in_tokens)), in_tokens, out_tokens])
    coef = np.linalg.lstsq(design, latency_ms, rcond=None)[0]
    return {
        "terms": ["intercept", "per_input_token", "per_output_token"],
        "coef": _rounded(coef),
        "log_sigma": round(_log_sigma(latency_ms, design @ coef), 9),
    }


def fit_skill_latency(batch: PlanBatch, latency_ms: np.ndarray) -> dict:
    """A linear latency model per skill on LATENCY_DESIGN; unobserved skills get a wide prior."""
    codes = batch.step_skill_code
    design = latency_design(batch)
    models = {}
    for code, label in enumerate(ALL_SKILL_LABELS):
        rows = codes == code
        if rows.sum() < MIN_BIN_COUNT:
            models[label] = dict(UNOBSERVED_LATENCY)
            continue
        coef = np.linalg.lstsq(design[rows], latency_ms[rows], rcond=None)[0]
        models[label] = {
            "coef": _rounded(coef),
            "log_sigma": round(_log_sigma(latency_ms[rows], design[rows] @ coef), 9),
        }
    return models


def fit_failure_rates(batch: PlanBatch, failed: np.ndarray) -> dict[str, float]:
    """Per-skill failure frequency with add-one smoothing; unobserved skills keep a 0.2 prior."""
    codes = batch.step_skill_code
    rates = {}
    for code, label in enumerate(ALL_SKILL_LABELS):
        seen = codes == code
        rates[label] = (
            round(float((failed[seen].sum() + 1) / (seen.sum() + 2)), 9)
            if seen.any()
            else UNOBSERVED_FAILURE_P
        )
    return rates


def build_artifact(
    *,
    prices: PriceTable,
    trace_train: tuple[np.ndarray, np.ndarray],
    trace_heldout: tuple[np.ndarray, np.ndarray],
    steps: PlanBatch,
    step_latency_ms: np.ndarray,
    step_failed: np.ndarray,
    step_in_tokens: np.ndarray,
    step_out_tokens: np.ndarray,
    skill_cost_cents: dict[str, float],
    training_data: dict,
) -> dict:
    """Assemble the artifact; its version is the hash of everything in it."""
    output_model = fit_output_tokens(*trace_train)
    is_llm = steps.step_skill_code == SKILL_CODES["llm_invoke"]
    artifact = {
        "schema": ARTIFACT_SCHEMA,
        "price_table": prices.to_dict(),
        "chars_per_token": CHARS_PER_TOKEN,
        "default_prompt_tokens": round(float(np.median(trace_train[0])), 9),
        "output_tokens": output_model,
        "llm_latency": fit_llm_latency(
            step_in_tokens[is_llm], step_out_tokens[is_llm], step_latency_ms[is_llm]
        ),
        "latency": fit_skill_latency(steps, step_latency_ms),
        "latency_design": list(LATENCY_DESIGN),
        "failure_p": fit_failure_rates(steps, step_failed),
        "skill_cost_cents": skill_cost_cents,
        "calibration": {
            "nominal_interval": "10th-90th percentile of generated tokens per context bin",
            "heldout_interval_coverage": interval_coverage(output_model, *trace_heldout),
            "heldout_rows": int(len(trace_heldout[0])),
        },
        "training_data": training_data,
    }
    artifact["version"] = model_version(artifact)
    return artifact
