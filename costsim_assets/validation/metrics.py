"""Validation metrics of one version on one dataset, as a flat JSON-ready dict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.statistics.percentiles import json_value
from costsim_assets.statistics.validation_metrics import validation_metrics
from costsim_assets.validation.evaluate import interval_coverage


def dataset_metrics(outputs: pd.DataFrame, total_records: int) -> dict:
    """Cost and duration error metrics, interval coverage and schema-error share."""
    cost = validation_metrics(
        outputs["cost_cents"].to_numpy(np.float64), outputs["actual_cost_cents"].to_numpy(np.float64)
    )
    duration = validation_metrics(
        outputs["duration_ms"].to_numpy(np.float64), outputs["actual_duration_ms"].to_numpy(np.float64)
    )
    rejected = total_records - len(outputs)
    return {
        "records": int(total_records),
        "evaluated": int(len(outputs)),
        "schema_errors": int(rejected),
        "schema_error_pct": 100.0 * rejected / total_records if total_records else None,
        "cost": cost.to_dict(),
        "duration": duration.to_dict(),
        "interval_coverage": json_value(interval_coverage(outputs)),
    }
