"""Robust (median-based) outlier detection, so a few extreme rows cannot hide themselves.

Two flavours: `robust_z_scores` centres and scales on the sample itself (fine for spotting a few
odd rows inside one sample), and `ReferenceScale` fixes centre and scale on a reference sample so a
later sample is judged against what was normal then. Rates that a verdict or a canary grades must
use the fixed scale: a systematic failure widens the day's own spread and would hide itself.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class ReferenceScale:
    """Centre (median) and scale (a standard-deviation equivalent) fixed on a reference sample."""

    center: float
    scale: float

    def to_dict(self) -> dict[str, float]:
        return {"center": self.center, "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict) -> "ReferenceScale":
        return cls(float(data["center"]), float(data["scale"]))


def reference_scale(values: np.ndarray) -> ReferenceScale:
    """Median and MAD / 0.6745 of the reference (mean-AD x 1.253314 when MAD is 0, as robust_z_scores).

    NaN scale when the reference has no finite value or no spread at all: such a scale flags nothing.
    """
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return ReferenceScale(float("nan"), float("nan"))
    center = float(np.median(finite))
    mad = float(np.median(np.abs(finite - center)))
    if mad > 0:
        return ReferenceScale(center, mad / MAD_CONSISTENCY)
    mean_ad = float(np.mean(np.abs(finite - center)))
    return ReferenceScale(center, mean_ad * MEAN_AD_CONSISTENCY if mean_ad > 0 else float("nan"))


def fixed_scale_outlier_pct(
    values: np.ndarray, scale: ReferenceScale, threshold: float = ROBUST_Z_THRESHOLD
) -> float:
    """% of finite values with |value - reference centre| / reference scale > threshold; NaN if none."""
    array = np.asarray(values, dtype=float)
    finite = array[np.isfinite(array)]
    if finite.size == 0 or not np.isfinite(scale.scale):
        return float("nan")
    return 100.0 * float(np.mean(np.abs(finite - scale.center) / scale.scale > threshold))
