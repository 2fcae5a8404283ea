"""Markdown renderings of validation reports (what a data engineer reads in the Dagster UI)."""

from __future__ import annotations

from costsim_assets.validation.verdict import Verdict

ROWS = (
    ("cost", "mean_error"),
    ("cost", "median_error"),
    ("cost", "std_error"),
    ("cost", "mean_abs_error"),
    ("cost", "wape"),
    ("cost", "outlier_pct"),
    ("cost", "drift_score"),
    ("duration", "mean_error"),
    ("duration", "median_error"),
    ("duration", "wape"),
    ("duration", "outlier_pct"),
    ("duration", "drift_score"),
)


def _cell(value) -> str:
    return "n/a" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def dataset_report_markdown(name: str, metrics: dict, verdicts: dict[str, Verdict]) -> str:
    """Metrics table (V1 vs V2) and each version's verdict with reasons."""
    lines = [f"# Validation: {name}", "", "| metric | V1 | V2 |", "|---|---|---|"]
    lines.append(f"| records evaluated | {metrics['v1']['evaluated']} | {metrics['v2']['evaluated']} |")
    lines.append(f"| schema errors | {metrics['v1']['schema_errors']} | {metrics['v2']['schema_errors']} |")
    for group, key in ROWS:
        lines.append(
            f"| {group} {key} | {_cell(metrics['v1'][group].get(key))} | "
            f"{_cell(metrics['v2'][group].get(key))} |"
        )
    lines.append(f"| interval coverage | n/a | {_cell(metrics['v2'].get('interval_coverage'))} |")
    for version, verdict in verdicts.items():
        lines += ["", f"## {version.upper()}: **{verdict.verdict}**", ""]
        lines += [f"- {reason}" for reason in verdict.reasons]
    return "\n".join(lines) + "\n"


def overall_report_markdown(verdict: Verdict, reports: dict[str, dict]) -> str:
    """The M6 verdict, its reasons, and each dataset's V1/V2 verdicts side by side."""
    lines = [f"# M6 validation verdict: **{verdict.verdict}**", ""]
    lines += [f"- {reason}" for reason in verdict.reasons]
    lines += ["", "| dataset | V1 | V2 | V1 cost WAPE | V2 cost WAPE |", "|---|---|---|---|---|"]
    for name, report in reports.items():
        v1, v2 = report["versions"]["v1"], report["versions"]["v2"]
        lines.append(
            f"| {name} | {v1['verdict']} | {v2['verdict']} | "
            f"{_cell(v1['metrics']['cost'].get('wape'))} | {_cell(v2['metrics']['cost'].get('wape'))} |"
        )
    return "\n".join(lines) + "\n"
