"""Time-ordered evaluation: rolling-origin folds over observations (never a shuffled split).

Fold k fits V2 on every observation before its origin (with that fit's own fit and calibration
windows) and scores it on the next block, beside the naive baselines fitted on the same rows. Later
traffic is never used to fit a forecast of earlier traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.simulator.v2_priors import V2Priors
from costsim_assets.statistics.realized import RealizedPerformance
from costsim_assets.training.fit import FitConfig, fit_v2_artifact
from costsim_assets.training.observations import prepare_observations, window_summary
from costsim_assets.validation.realized import score_observations

FOLD_ORIGINS = (0.5, 0.6, 0.7, 0.8, 0.9)
FOLD_HORIZON = 0.1


@dataclass(frozen=True)
class FoldResult:
    """One fold: where it was cut, the model fitted before the cut, and its score after it."""

    origin: float
    train: dict
    test: dict
    model_version: str
    performance: RealizedPerformance


def rolling_origin_folds(
    observations: pd.DataFrame,
    *,
    prices: PriceTable,
    priors: V2Priors,
    origins: tuple[float, ...] = FOLD_ORIGINS,
    horizon: float = FOLD_HORIZON,
    config: FitConfig | None = None,
) -> list[FoldResult]:
    """Fit before each origin (a share of the rows in time order), test on the next `horizon`."""
    frame = prepare_observations(observations)
    n = len(frame)
    results = []
    for origin in origins:
        cut, end = int(n * origin), min(n, int(n * (origin + horizon)))
        train, test = frame.iloc[:cut], frame.iloc[cut:end]
        artifact = fit_v2_artifact(
            train, prices=prices, priors=priors, source={"rolling_origin": origin}, config=config
        )
        model = V2Model.from_artifact(artifact)
        results.append(
            FoldResult(
                origin=origin,
                train=window_summary(train),
                test=window_summary(test),
                model_version=model.version,
                performance=score_observations(model, test),
            )
        )
    return results


def fold_summary(fold: FoldResult) -> dict:
    """The figures a report shows per fold: windows, coverage, V2 and each baseline, V2's skill."""
    tokens, cost = fold.performance.output_tokens, fold.performance.cost
    return {
        "origin": fold.origin,
        "train_rows": fold.train["rows"],
        "test": fold.test,
        "model_version": fold.model_version,
        "interval": tokens.interval.to_dict() if tokens.interval else None,
        "output_tokens": {
            "v2": tokens.model.to_dict(),
            "baselines": {name: score.to_dict() for name, score in tokens.baselines.items()},
            "skill": {name: score.to_dict() for name, score in tokens.skill.items()},
        },
        "cost": {
            "v2": cost.model.to_dict(),
            "baselines": {name: score.to_dict() for name, score in cost.baselines.items()},
        },
    }
