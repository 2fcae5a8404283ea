"""Per-plan reductions over the flat step arrays (plans are contiguous step segments)."""

from __future__ import annotations

import numpy as np


def _reduce(ufunc: np.ufunc, values: np.ndarray, offsets: np.ndarray, identity: float) -> np.ndarray:
    counts = np.diff(offsets)
    if len(counts) == len(values) and (counts == 1).all():
        return values.astype(np.float64)  # one step per plan: the reduction is the values themselves
    result = np.full(len(counts), identity, dtype=np.float64)
    non_empty = counts > 0
    if values.size:
        starts = offsets[:-1][non_empty]
        result[non_empty] = ufunc.reduceat(values, starts)
    return result


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum per plan, in step order (so it matches a serial per-plan loop bit for bit)."""
    return _reduce(np.add, values, offsets, 0.0)


def segment_product(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Product per plan, in step order; an empty plan's product is 1."""
    return _reduce(np.multiply, values, offsets, 1.0)


def segment_min(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Smallest non-NaN value per plan; NaN for a plan with none (nothing to take the minimum of)."""
    lowest = _reduce(np.minimum, np.where(np.isnan(values), np.inf, values), offsets, np.inf)
    return np.where(np.isinf(lowest), np.nan, lowest)


def segment_any(flags: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """True where any step of the plan is flagged."""
    return segment_sum(flags.astype(np.float64), offsets) > 0


def cumulative_risk(step_failure_p: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """1 - prod(1 - p): the chance that at least one step of the plan fails."""
    return 1.0 - segment_product(1.0 - step_failure_p, offsets)
