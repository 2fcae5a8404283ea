"""The traffic a V2 artifact was calibrated on, kept as bins and shares (no rows), so the canary
can say what moved since: prompt lengths, output lengths, model and skill mix, call prices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.simulator.prices import PriceTable
from costsim_assets.statistics.calibration import category_shares
from costsim_assets.statistics.drift import profile_of
from costsim_assets.statistics.percentiles import percentile

OBSERVED_SKILLS = {"llm_invoke": 1.0}
"""Observations are LLM calls only; a caller that knows the requests' skill mix passes its own."""


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 9) for v in values]


def _profile(values: np.ndarray) -> dict:
    profile = profile_of(values)
    return {"edges": _rounded(profile.edges), "shares": _rounded(profile.shares), "n": profile.n}


def call_list_cost(frame: pd.DataFrame, prices: PriceTable) -> np.ndarray:
    """What each observed call costs at list price (input and output tokens x its model's price)."""
    table = {model: prices.cents_per_token(model) for model in frame["model"].unique()}
    price_in = frame["model"].map(lambda m: table[m][0]).to_numpy(np.float64)
    price_out = frame["model"].map(lambda m: table[m][1]).to_numpy(np.float64)
    return frame["input_tokens"].to_numpy() * price_in + frame["output_tokens"].to_numpy() * price_out


def reference_profile(
    frame: pd.DataFrame, prices: PriceTable, skills: dict[str, float] | None = None
) -> dict:
    """Bins and shares of input and output tokens, the model mix and the median call cost."""
    return {
        "input_tokens": _profile(frame["input_tokens"].to_numpy()),
        "output_tokens": _profile(frame["output_tokens"].to_numpy()),
        "models": {k: round(v, 9) for k, v in category_shares(frame["model"].to_numpy()).items()},
        "skills": dict(skills or OBSERVED_SKILLS),
        "median_call_cost_cents": round(percentile(call_list_cost(frame, prices), 50), 9),
        "rows": int(len(frame)),
    }
