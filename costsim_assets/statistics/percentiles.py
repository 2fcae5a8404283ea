"""Percentiles plus the sample conventions shared by every statistic in this package.

Conventions: a statistic needs at least MIN_SAMPLE_SIZE finite values, otherwise its result
has status "no_data" and NaN values; NaN and +/-inf inputs are treated as missing.
"""

import math
from dataclasses import asdict, fields
from typing import Any, Literal

import numpy as np

MIN_SAMPLE_SIZE = 30
PERCENTILE_METHOD = "linear"
"""Hyndman-Fan type 7 (numpy's default): on sorted x[0..n-1], h = (n - 1) * q / 100 and
the result is x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])."""

Status = Literal["ok", "no_data"]


def finite_values(values: np.ndarray) -> np.ndarray:
    """Flatten to float and drop NaN/inf so every statistic counts the same usable sample."""
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def nan_fields(result_type: type) -> dict[str, float]:
    """NaN for every float field of a result dataclass: the package's explicit no-data outcome."""
    return {field.name: math.nan for field in fields(result_type) if field.type is float}


def result_to_dict(result: Any) -> dict[str, Any]:
    """Turn a result dataclass into JSON-safe plain types; non-finite floats become None."""
    return {key: json_value(value) for key, value in asdict(result).items()}


def json_value(value: Any) -> Any:
    """Map numpy floats to Python ones and NaN/inf to None, which JSON can represent."""
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    return value


def json_safe(document: Any) -> Any:
    """json_value applied through nested dicts and lists (PostgreSQL JSONB rejects NaN)."""
    if isinstance(document, dict):
        return {key: json_safe(value) for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [json_safe(value) for value in document]
    return json_value(document)


def percentile(values: np.ndarray, q: float) -> float:
    """Interpolated q-th percentile, q in [0, 100], by one fixed method; NaN if nothing finite."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be within [0, 100], got {q!r}")
    sample = finite_values(values)
    if sample.size == 0:
        return math.nan
    return float(np.percentile(sample, q, method=PERCENTILE_METHOD))
