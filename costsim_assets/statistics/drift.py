"""Distribution drift between a reference and a current sample over shared quantile bins.

KL divergence is asymmetric and explodes on empty bins, so both samples are binned on edges
fitted to the reference, smoothed once, and KL is reported as KL(reference || current).
Thresholds should use the bounded Jensen-Shannon distance (base 2, in [0, 1]). A current
sample wholly outside the reference range lands in one outer bin holding 1/n_bins of the
reference, so the score saturates below 1 (about 0.87 at 10 bins).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from costsim_assets.statistics.percentiles import (
    MIN_SAMPLE_SIZE,
    PERCENTILE_METHOD,
    Status,
    finite_values,
    result_to_dict,
)

DEFAULT_BINS = 10
SMOOTHING = 1e-6
"""Added to every bin probability, then renormalised: p_i' = (p_i + 1e-6) / (1 + k * 1e-6)."""


@dataclass(frozen=True)
class DriftResult:
    """Drift of a current sample against a reference; score is the JS distance in [0, 1]."""

    status: Status
    score: float
    kl_divergence: float
    n_reference: int
    n_current: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (NaN -> None)."""
        return result_to_dict(self)


def quantile_bin_edges(reference: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Interior edges at reference quantiles so each bin holds ~equal reference mass.

    Edges are the (linear) quantiles at 1/n_bins .. (n_bins-1)/n_bins, deduplicated, so ties
    collapse bins; the outer bins are open (-inf, e_0) and [e_last, +inf).
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    sample = finite_values(reference)
    if sample.size == 0:
        raise ValueError("reference has no finite values to fit bin edges on")
    levels = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    return np.unique(np.quantile(sample, levels, method=PERCENTILE_METHOD))


def binned_distribution(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of finite values per bin (len(edges) + 1 bins); NaN everywhere if none are finite.

    Bins are left-closed, right-open (searchsorted side="right"): a value equal to an edge
    falls into the bin above it, matching np.histogram on [-inf, *edges, +inf].
    """
    sample = finite_values(values)
    n_bins = len(edges) + 1
    if sample.size == 0:
        return np.full(n_bins, np.nan)
    counts = np.bincount(np.searchsorted(edges, sample, side="right"), minlength=n_bins)
    return counts / sample.size


def kl_divergence(reference: np.ndarray, current: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """KL(reference || current) in nats over smoothed shared bins; NaN if either side is empty."""
    if not _both_have_values(reference, current):
        return math.nan
    return _kl(*_smoothed_pair(reference, current, n_bins))


def js_distance(reference: np.ndarray, current: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) on the same bins; NaN if a side is empty."""
    if not _both_have_values(reference, current):
        return math.nan
    return _js(*_smoothed_pair(reference, current, n_bins))


def drift_score(reference: np.ndarray, current: np.ndarray, n_bins: int = DEFAULT_BINS) -> DriftResult:
    """Threshold-ready drift: JS distance plus KL, or no_data when either sample is too small."""
    n_reference = finite_values(reference).size
    if n_reference < MIN_SAMPLE_SIZE:
        return DriftResult("no_data", math.nan, math.nan, n_reference, finite_values(current).size)
    return drift_from_profile(profile_of(reference, n_bins), current)


def _both_have_values(reference: np.ndarray, current: np.ndarray) -> bool:
    """Divergence is undefined unless both samples have at least one finite value."""
    return finite_values(reference).size > 0 and finite_values(current).size > 0


def _smoothed_pair(reference: np.ndarray, current: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin both samples on reference-fitted edges, then smooth each distribution once."""
    edges = quantile_bin_edges(reference, n_bins)
    p = _smooth(binned_distribution(reference, edges))
    return p, _smooth(binned_distribution(current, edges))


def _smooth(probabilities: np.ndarray) -> np.ndarray:
    """Additive smoothing keeps every bin positive so log ratios stay finite."""
    smoothed = probabilities + SMOOTHING
    return smoothed / smoothed.sum()


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) in nats, clipped at 0 so rounding cannot report negative divergence."""
    return max(0.0, float(np.sum(p * np.log(p / q))))


def _js(p: np.ndarray, q: np.ndarray) -> float:
    """sqrt of the base-2 JS divergence, clipped to [0, 1] against rounding."""
    m = (p + q) / 2
    divergence = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    return math.sqrt(min(1.0, max(0.0, float(divergence))))


@dataclass(frozen=True)
class Profile:
    """A reference distribution kept as bins: what a model was fitted on, without its rows."""

    edges: np.ndarray
    shares: np.ndarray
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"edges": self.edges.tolist(), "shares": self.shares.tolist(), "n": self.n}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Profile":
        return cls(
            np.array(data["edges"], dtype=float), np.array(data["shares"], dtype=float), int(data["n"])
        )


def profile_of(reference: np.ndarray, n_bins: int = DEFAULT_BINS) -> Profile:
    """The reference's quantile bins and the share of it in each (the same bins drift_score fits)."""
    edges = quantile_bin_edges(reference, n_bins)
    return Profile(edges, binned_distribution(reference, edges), int(finite_values(reference).size))


def drift_from_profile(profile: Profile, current: np.ndarray) -> DriftResult:
    """drift_score against a stored profile instead of the reference rows (identical result)."""
    n_current = finite_values(current).size
    if min(profile.n, n_current) < MIN_SAMPLE_SIZE:
        return DriftResult("no_data", math.nan, math.nan, profile.n, n_current)
    p, q = _smooth(profile.shares), _smooth(binned_distribution(current, profile.edges))
    return DriftResult("ok", _js(p, q), _kl(p, q), profile.n, n_current)
