"""Feasibility verdict per plan, in the frozen order both versions share."""

from __future__ import annotations

import numpy as np

STATUSES: tuple[str, ...] = (
    "FEASIBLE",
    "BUDGET_INSUFFICIENT",
    "PERMISSION_DENIED",
    "RISK_TOO_HIGH",
    "INVALID_PLAN",
)
STATUS_CODES = {name: code for code, name in enumerate(STATUSES)}


def feasibility_status(
    cost_cents: np.ndarray,
    budget_cents: np.ndarray,
    any_denied: np.ndarray,
    cumulative_risk: np.ndarray,
    risk_threshold: np.ndarray,
    n_steps: np.ndarray,
) -> np.ndarray:
    """Status codes: budget, then permission, then risk, then empty plan, else feasible."""
    return np.select(
        [cost_cents > budget_cents, any_denied, cumulative_risk > risk_threshold, n_steps == 0],
        [
            STATUS_CODES[s]
            for s in ("BUDGET_INSUFFICIENT", "PERMISSION_DENIED", "RISK_TOO_HIGH", "INVALID_PLAN")
        ],
        default=STATUS_CODES["FEASIBLE"],
    ).astype(np.int8)
