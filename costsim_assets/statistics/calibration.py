"""Calibration of V2's forecasts against realized outcomes: the canary's trust signal.

A calibrated forecast states, per request, the probability that the outcome lands above its
median, above its interval, below its interval (measured on the calibration window, so integer
ties are accounted for). On a day of outcomes the number of such events is a sum of independent
Bernoulli trials with those probabilities (Poisson-binomial): mean sum(p), variance sum(p(1 - p)).
`rate_test` reports the standardized departure z = (k - sum p) / sqrt(sum p(1 - p)); under
calibration |z| is approximately standard normal whatever the mix of segments, so one threshold
serves every sample size. The observed and expected rates give the effect size beside it.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from costsim_assets.statistics.percentiles import MIN_SAMPLE_SIZE, Status, result_to_dict


@dataclass(frozen=True)
class RateTest:
    """Observed vs expected share of events; z and rates are NaN when no_data."""

    status: Status
    n: int
    observed: float
    expected: float
    z: float

    @property
    def effect(self) -> float:
        """observed - expected, the departure in rate units."""
        return self.observed - self.expected

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (NaN -> None), with the effect size."""
        return {**result_to_dict(self), "effect": None if math.isnan(self.effect) else self.effect}


def rate_test(events: np.ndarray, probabilities: np.ndarray) -> RateTest:
    """Poisson-binomial z of `events` (bool per trial) against per-trial `probabilities`.

    Trials with a non-finite probability are dropped; fewer than MIN_SAMPLE_SIZE trials, or a
    variance of zero (every probability 0 or 1), is no_data.
    """
    events = np.asarray(events, dtype=bool)
    probabilities = np.asarray(probabilities, dtype=float)
    if events.shape != probabilities.shape:
        raise ValueError(f"shape mismatch: events {events.shape} vs probabilities {probabilities.shape}")
    keep = np.isfinite(probabilities)
    events, probabilities = events[keep], np.clip(probabilities[keep], 0.0, 1.0)
    n = int(events.size)
    variance = float(np.sum(probabilities * (1.0 - probabilities)))
    if n < MIN_SAMPLE_SIZE or variance <= 0.0:
        return RateTest("no_data", n, math.nan, math.nan, math.nan)
    hits, expected = float(events.sum()), float(probabilities.sum())
    return RateTest("ok", n, hits / n, expected / n, (hits - expected) / math.sqrt(variance))


@dataclass(frozen=True)
class BiasTest:
    """Relative bias of a mean forecast, sum(predicted) / sum(actual) - 1, with a paired z."""

    status: Status
    n: int
    relative_bias: float
    z: float

    def to_dict(self) -> dict[str, Any]:
        return result_to_dict(self)


def bias_test(predicted: np.ndarray, actual: np.ndarray) -> BiasTest:
    """Relative bias and the paired z = mean(d) / (sd(d) / sqrt(n)), d = predicted - actual.

    The relative bias says how far off in total (e.g. -0.25: forecasts 25 % short); z says whether
    that is more than the day's noise. Rows with a non-finite side are dropped.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if predicted.shape != actual.shape:
        raise ValueError(f"shape mismatch: predicted {predicted.shape} vs actual {actual.shape}")
    keep = np.isfinite(predicted) & np.isfinite(actual)
    predicted, actual = predicted[keep], actual[keep]
    n = int(predicted.size)
    total = float(np.sum(actual))
    if n < MIN_SAMPLE_SIZE or total <= 0.0:
        return BiasTest("no_data", n, math.nan, math.nan)
    difference = predicted - actual
    mean, spread = float(difference.mean()), float(np.std(difference, ddof=1))
    if spread > 0:
        z = mean / (spread / math.sqrt(n))
    else:  # every row off by the same amount: certain, unless that amount is zero
        z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    return BiasTest("ok", n, float(np.sum(predicted)) / total - 1.0, z)


def category_shares(labels: np.ndarray) -> dict[str, float]:
    """Share of each label in a sample (empty sample: empty dict)."""
    values, counts = np.unique(np.asarray(labels, dtype=str), return_counts=True)
    total = float(counts.sum())
    return {str(v): float(c) / total for v, c in zip(values, counts, strict=True)}


def total_variation(reference: dict[str, float], current: dict[str, float]) -> float:
    """Total variation distance between two categorical mixes, in [0, 1]; NaN if either is empty.

    TV = 1/2 sum |p_i - q_i| over the union of categories: the largest difference in probability
    the two mixes give any set of categories (bounded, symmetric, no smoothing needed).
    """
    if not reference or not current:
        return math.nan
    labels = set(reference) | set(current)
    return 0.5 * sum(abs(reference.get(label, 0.0) - current.get(label, 0.0)) for label in labels)
