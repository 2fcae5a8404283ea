"""`costsim evaluate-trace`: the current V2 artifact (no refit) and the naive baselines on any trace in
the Azure format (TIMESTAMP, ContextTokens, GeneratedTokens), with a verdict.

Every call is priced as the historical model (gpt-4o) at list price, as the historical dataset is.
When the trace is the very one the artifact was fitted on, only the rows after its training window
are scored, so V2 is never judged on what it has seen.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from costsim_assets.reference_data.historical import (
    HISTORICAL_MODEL,
    TRACE_COLUMNS,
    HistoricalSourceError,
    parse_trace,
    train_rows,
)
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.training.observations import trace_observations
from costsim_assets.validation.metrics import observation_metrics
from costsim_assets.validation.thresholds import Thresholds
from costsim_assets.validation.verdict import SEVERITY, beats_best_naive_baseline, dataset_verdict


class TraceEvaluationError(ValueError):
    """The trace cannot be evaluated; the message names the setting to fix (one line)."""


def read_checked_trace(source: str, expected_sha256: str) -> tuple[pd.DataFrame, str]:
    """(parsed trace, its sha256) or a one-line error naming --source or --sha256."""
    try:
        data = Path(source).read_bytes()
    except OSError as error:
        raise TraceEvaluationError(f"--source {source} is not readable: {error.strerror or error}") from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256.strip().lower():
        raise TraceEvaluationError(
            f"--sha256 {expected_sha256} does not match --source {source} (its sha256 is {digest})"
        )
    try:
        return parse_trace(data), digest
    except HistoricalSourceError as error:
        message = " ".join(str(error).split())
        raise TraceEvaluationError(
            f"--source {source} is not a trace in the Azure format {list(TRACE_COLUMNS)}: {message}"
        ) from error


def _point(component: dict | None, keys: tuple[str, ...]) -> dict | None:
    return {key: component.get(key) for key in keys} if component else None


def _summary(tokens: dict, cost: dict) -> tuple[dict, dict, dict]:
    """(v2, baselines, skill) in the command's documented shape."""
    v2 = {
        "output_tokens": _point(tokens, ("mae", "wape", "bias")),
        "cost": _point(cost, ("mae", "wape")),
        "interval_coverage": (tokens.get("interval") or {}).get("rate"),
    }
    baselines, skill = {}, {}
    for name, score in cost["baselines"].items():
        token_score = tokens["baselines"].get(name)
        baselines[name] = {
            "output_tokens": _point(token_score, ("mae", "wape", "bias")),
            "cost": _point(score, ("mae", "wape")),
        }
        skill[name] = {
            "output_tokens": tokens["skill"][name]["skill"] if token_score else None,
            "output_tokens_lower_bound": tokens["skill"][name]["lower_bound"] if token_score else None,
            "cost": cost["skill"][name]["skill"],
        }
    return v2, baselines, skill


def evaluate_trace(trace: pd.DataFrame, trace_sha256: str, model: V2Model, thresholds: Thresholds) -> dict:
    """One JSON-ready object: rows, V2, each baseline, V2's skill over each, and a verdict."""
    observations = trace_observations(trace, HISTORICAL_MODEL)
    window = "all rows"
    if trace_sha256 == model.artifact["training_data"]["source"].get("trace_sha256"):
        observations = observations.iloc[train_rows(len(observations)) :]
        window = "rows after the model's training window (this trace is the one it was fitted on)"
    metrics = observation_metrics(model, observations)
    verdict = dataset_verdict(metrics, thresholds)
    comparison_grade, comparison = beats_best_naive_baseline(
        {"output_tokens": metrics["output_tokens"]}, f"this trace, {window}"
    )
    status = max(verdict.verdict, comparison_grade, key=SEVERITY.__getitem__)
    v2, baselines, skill = _summary(metrics["output_tokens"], metrics["cost"])
    return {
        "rows": int(len(observations)),
        "trace_rows": int(len(trace)),
        "window": window,
        "trace_sha256": trace_sha256,
        "model_version": model.version,
        "priced_as": HISTORICAL_MODEL,
        "v2": v2,
        "baselines": baselines,
        "best_baseline": metrics["output_tokens"]["best_baseline"],
        "skill": skill,
        "verdict": {"status": status, "reasons": [*verdict.reasons, comparison]},
    }


def summary_text(result: dict) -> str:
    """The same result for a terminal: V2, each baseline with V2's skill, the verdict and reasons."""
    tokens = result["v2"]["output_tokens"]
    lines = [
        f"{result['rows']} calls ({result['window']}), V2 {result['model_version']}",
        f"output tokens: V2 MAE {tokens['mae']:.2f}, coverage {result['v2']['interval_coverage']:.3f}",
    ]
    for name, score in result["baselines"].items():
        if score["output_tokens"]:
            skill = result["skill"][name]["output_tokens"]
            lines.append(f"  {name}: MAE {score['output_tokens']['mae']:.2f}, V2 skill {skill:.3f}")
    lines.append(f"verdict: {result['verdict']['status']}")
    return "\n".join(lines + [f"  - {reason}" for reason in result["verdict"]["reasons"]])
