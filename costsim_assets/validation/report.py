"""Markdown renderings of validation reports (what a data engineer reads in the Dagster UI).

Output tokens and cost each get a table of V2 beside every naive baseline on the same rows, with
V2's skill over each; duration is described with the origin of its truth and never graded.
"""

from __future__ import annotations

from costsim_assets.validation.verdict import Verdict, duration_note

COMPONENTS = (("output_tokens", "Output tokens per LLM step", "tokens"), ("cost", "Cost per plan", "cents"))
ERROR_ROWS = ("mean_error", "median_error", "std_error", "drift_score")


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _skill(score: dict) -> str:
    if score.get("skill") is None:
        return "n/a"
    mark = " (demonstrated)" if score["demonstrated"] else ""
    return f"{score['skill']:.3f} [{score['lower_bound']:.3f}]{mark}"


def component_table(component: dict, title: str, unit: str) -> list[str]:
    """V2 and each baseline: MAE (median forecast), WAPE, bias (mean forecast), V2's skill."""
    lines = [
        f"## {title}",
        "",
        f"{component['n']} rows, MAE and WAPE on the median forecast, bias on the mean forecast ({unit}); "
        "skill of V2 = 1 - MAE(V2) / MAE(baseline) [95 % lower bound].",
        "",
        "| forecaster | MAE | WAPE | bias | skill of V2 over it |",
        "|---|---|---|---|---|",
        f"| **V2** | {_cell(component['mae'])} | {_cell(component['wape'])} | {_cell(component['bias'])} | |",
    ]
    for name, score in component["baselines"].items():
        best = " (best naive)" if name == component.get("best_baseline") else ""
        lines.append(
            f"| {name}{best} | {_cell(score['mae'])} | {_cell(score['wape'])} | {_cell(score['bias'])} | "
            f"{_skill(component['skill'][name])} |"
        )
    interval = component.get("interval")
    if interval and interval.get("rate") is not None:
        lines += [
            "",
            f"Interval coverage {interval['rate']:.3f} [{interval['ci_low']:.3f}, {interval['ci_high']:.3f}] "
            f"(Wilson 95 %), nominal {interval['nominal']:.2f}; below low {interval['share_below']:.3f}, "
            f"above high {interval['share_above']:.3f}.",
        ]
    if component.get("outlier_pct") is not None:
        lines.append(f"Outliers (|robust z| > 3.5 on the reference scale): {component['outlier_pct']:.1f} %.")
    return [*lines, ""]


def folds_table(folds: list[dict]) -> list[str]:
    """Time-ordered folds: each refits V2 before its origin and scores the next block."""
    lines = [
        "## Time-ordered folds",
        "",
        "V2 refitted on every request before the origin, scored on the next block, beside the global median.",
        "",
        "| origin | test rows | coverage [Wilson 95 %] | V2 token MAE | global median MAE "
        "| skill [lower bound] | V2 cost MAE |",
        "|---|---|---|---|---|---|---|",
    ]
    for fold in folds:
        interval, tokens = fold["interval"], fold["output_tokens"]
        skill = tokens["skill"]["global_median"]
        lines.append(
            f"| {fold['origin']:.0%} | {fold['test']['rows']} | {_cell(interval['rate'])} "
            f"[{_cell(interval['ci_low'])}, {_cell(interval['ci_high'])}] | {_cell(tokens['v2']['mae'])} | "
            f"{_cell(tokens['baselines']['global_median']['mae'])} | {_skill(skill)} | "
            f"{_cell(fold['cost']['v2']['mae'])} |"
        )
    return [*lines, ""]


def dataset_report_markdown(name: str, metrics: dict, verdicts: dict[str, Verdict]) -> str:
    """Per component V2 beside the baselines, V1 and V2 error summaries, and both verdicts."""
    v1, v2 = metrics["v1"], metrics["v2"]
    lines = [
        f"# Validation: {name}",
        "",
        f"{v2['evaluated']} records evaluated, {v2['schema_errors']} schema errors.",
        "",
    ]
    for key, title, unit in COMPONENTS:
        if v2.get(key) and v2[key].get("n"):
            lines += component_table(v2[key], title, unit)
    if v2.get("time_ordered_folds"):
        lines += folds_table(v2["time_ordered_folds"])
    lines += ["## Cost error summary", "", "| metric | V1 | V2 |", "|---|---|---|"]
    lines += [
        f"| {row} | {_cell(v1['cost']['errors'].get(row))} | {_cell(v2['cost']['errors'].get(row))} |"
        for row in ERROR_ROWS
    ]
    lines += ["", f"- {duration_note(v2)}"]
    for version, verdict in verdicts.items():
        lines += ["", f"## {version.upper()}: **{verdict.verdict}**", ""]
        lines += [f"- {reason}" for reason in verdict.reasons]
    return "\n".join(lines) + "\n"


def _best(component: dict | None) -> str:
    if not component or not component.get("best_baseline"):
        return "n/a"
    name = component["best_baseline"]
    return f"{name} {_cell(component['baselines'][name]['mae'])}"


def overall_report_markdown(verdict: Verdict, reports: dict[str, dict]) -> str:
    """The M6 verdict, its reasons, and per dataset V2 beside the best naive baseline."""
    lines = [f"# M6 validation verdict: **{verdict.verdict}**", ""]
    lines += [f"- {reason}" for reason in verdict.reasons]
    lines += [
        "",
        "| dataset | V1 | V2 | V2 token MAE | best naive token MAE | V2 token coverage | V2 cost WAPE "
        "| best naive cost MAE | V2 cost MAE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, report in reports.items():
        v1, v2 = report["versions"]["v1"], report["versions"]["v2"]
        tokens, cost = v2["metrics"].get("output_tokens") or {}, v2["metrics"]["cost"]
        coverage = (tokens.get("interval") or {}).get("rate")
        lines.append(
            f"| {name} | {v1['verdict']} | {v2['verdict']} | {_cell(tokens.get('mae'))} | {_best(tokens)} | "
            f"{_cell(coverage)} | {_cell(cost.get('wape'))} | {_best(cost)} | {_cell(cost.get('mae'))} |"
        )
    return "\n".join(lines) + "\n"
