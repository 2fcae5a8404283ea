"""Print the figures of docs/v2-validation.md as Markdown, from the pure core (no Dagster):
V2 beside every naive baseline on each golden dataset, and the time-ordered folds on the trace.

    .venv/bin/python scripts/v2_validation_figures.py [--trace PATH]
"""

from __future__ import annotations

import argparse
import hashlib

import numpy as np

from costsim_assets.reference_data.build import SYNTHETIC_SPECS, build_synthetic, parse_plans
from costsim_assets.reference_data.historical import (
    HISTORICAL_MODEL,
    TRACE_SHA256,
    parse_trace,
    read_trace_bytes,
    train_rows,
)
from costsim_assets.reference_data.task_types import output_length_pool
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.training.folds import rolling_origin_folds
from costsim_assets.training.observations import trace_observations
from costsim_assets.validation.realized import score_observations, score_plans

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def component_rows(dataset: str, component: str, perf: dict, digits: int) -> list[str]:
    """One row for V2 and one per baseline: MAE, WAPE, bias, V2's skill over it [lower bound]."""
    scores = perf[component]
    if scores["n"] == 0:
        return [f"| {dataset} | {component} | — | no rows | | | |"]
    interval = (scores.get("interval") or {}).get("rate")
    rows = [
        f"| {dataset} | {component} | **V2** | {_f(scores['mae'], digits)} | {_f(scores['wape'])} | "
        f"{_f(scores['bias'], digits)} | coverage {_f(interval)} |"
    ]
    for name, score in scores["baselines"].items():
        skill = scores["skill"][name]
        rows.append(
            f"| {dataset} | {component} | {name} | {_f(score['mae'], digits)} | {_f(score['wape'])} | "
            f"{_f(score['bias'], digits)} | skill {_f(skill['skill'])} [{_f(skill['lower_bound'])}] |"
        )
    return rows


def golden_table(trace_bytes: bytes) -> list[str]:
    prices, model = load_price_table(), load_v2_model()
    trace = parse_trace(trace_bytes)
    pool = output_length_pool(trace, hashlib.sha256(trace_bytes).hexdigest())
    lines = [
        "| dataset | component | forecaster | MAE | WAPE | bias | V2 skill over it [95 % bound] / coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in SYNTHETIC_SPECS:
        dataset = build_synthetic(name, prices, pool)
        plans, valid, _ = parse_plans(dataset.records["plan_json"].tolist())
        tokens = np.where(dataset.steps["status"] == "ok", dataset.steps["output_tokens"], np.nan)
        cost = dataset.records.loc[valid, "actual_cost_cents"].to_numpy()
        perf = score_plans(PlanBatch.from_plans(plans), model, tokens, cost).to_dict()
        lines += component_rows(name, "output_tokens", perf, 2) + component_rows(name, "cost", perf, 4)
    held_out = trace_observations(trace, HISTORICAL_MODEL).iloc[train_rows(len(trace)) :]
    perf = score_observations(model, held_out).to_dict()
    lines += component_rows("historical (held-out)", "output_tokens", perf, 2)
    lines += component_rows("historical (held-out)", "cost", perf, 4)
    return lines


def fold_table(trace_bytes: bytes) -> list[str]:
    observations = trace_observations(parse_trace(trace_bytes), HISTORICAL_MODEL)
    folds = rolling_origin_folds(observations, prices=load_price_table(), priors=load_priors())
    lines = [
        "| origin | test rows | coverage [Wilson 95 %] | token MAE | token WAPE | token bias | cost MAE | "
        "cost WAPE | global median MAE | skill [lower bound] | input-only MAE | outliers % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for fold in folds:
        tokens, cost = fold.performance.output_tokens, fold.performance.cost
        interval, skill = tokens.interval, tokens.skill["global_median"]
        lines.append(
            f"| {fold.origin:.0%} | {fold.test['rows']} | {interval.rate:.3f} [{interval.ci_low:.3f}, "
            f"{interval.ci_high:.3f}] | {tokens.model.mae:.2f} | {tokens.model.wape:.3f} | "
            f"{tokens.model.bias:.2f} | {cost.model.mae:.4f} | {cost.model.wape:.3f} | "
            f"{tokens.baselines['global_median'].mae:.2f} | {skill.skill:.3f} [{skill.lower_bound:.3f}] | "
            f"{tokens.baselines['input_only'].mae:.2f} | {tokens.outlier_pct:.1f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trace", default=TRACE)
    parser.add_argument("--sha256", default=TRACE_SHA256)
    args = parser.parse_args()
    data = read_trace_bytes(args.trace, args.sha256)
    print("## V2 beside the naive baselines on every golden dataset\n")
    print("\n".join(golden_table(data)))
    print("\n## Time-ordered folds on the historical trace\n")
    print("\n".join(fold_table(data)))


if __name__ == "__main__":
    main()
