"""Robust (median-based) outlier detection, so a few extreme rows cannot hide themselves."""

import numpy as np

ROBUST_Z_THRESHOLD = 3.5
MAD_CONSISTENCY = 0.6745
MEAN_AD_CONSISTENCY = 1.253314


def robust_z_scores(values: np.ndarray) -> np.ndarray:
    """Modified z-scores (Iglewicz-Hoaglin): resistant to the outliers they are meant to expose.

    z = 0.6745 * (x - median) / MAD. If MAD == 0 (over half the values tie), fall back to
    z = (x - median) / (1.253314 * meanAD), meanAD = mean |x - median| (1.253314 = sqrt(pi/2)).
    If meanAD is also 0, values equal to the median get 0 and any other value +/-inf.
    Centre and scale use finite values only; NaN inputs give NaN scores, and with no
    finite values every score is NaN.
    """
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return np.full(array.shape, np.nan)
    median = np.median(finite)
    deviation = array - median
    mad = np.median(np.abs(finite - median))
    if mad > 0:
        return MAD_CONSISTENCY * deviation / mad
    mean_ad = np.mean(np.abs(finite - median))
    if mean_ad > 0:
        return deviation / (MEAN_AD_CONSISTENCY * mean_ad)
    return _degenerate_scores(deviation)


def _degenerate_scores(deviation: np.ndarray) -> np.ndarray:
    """With zero spread any departure from the median is infinitely unusual; keep its sign."""
    scores = np.where(deviation == 0, 0.0, np.copysign(np.inf, deviation))
    return np.where(np.isnan(deviation), np.nan, scores)


def outlier_mask(values: np.ndarray, threshold: float = ROBUST_Z_THRESHOLD) -> np.ndarray:
    """Flag rows with |robust z| > threshold; NaN rows are never flagged."""
    return np.abs(robust_z_scores(values)) > threshold
