"""The bootstrap champion: V2 fitted on the earliest 70 % (by time) of the real Azure code trace.

Nothing else goes in: no execution-model draws (latency, failures and fixed skill costs are the
documented priors), so golden synthetic data never judges a model fitted on itself.
"""

from __future__ import annotations

import hashlib

from costsim_assets.reference_data.historical import HISTORICAL_MODEL, parse_trace, train_rows
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.v2_priors import V2Priors, load_priors
from costsim_assets.training.fit import fit_v2_artifact
from costsim_assets.training.observations import trace_observations

TRACE_NAME = "AzureLLMInferenceTrace_code.csv (Azure Public Dataset, Patel et al. 2024, CC-BY-4.0)"


def train_v2_artifact(trace_bytes: bytes, prices: PriceTable, priors: V2Priors | None = None) -> dict:
    """The V2 artifact for this trace, price table and priors (deterministic)."""
    trace = parse_trace(trace_bytes)
    observations = trace_observations(trace, HISTORICAL_MODEL).iloc[: train_rows(len(trace))]
    return fit_v2_artifact(
        observations,
        prices=prices,
        priors=priors or load_priors(),
        source={
            "trace": TRACE_NAME,
            "trace_sha256": hashlib.sha256(trace_bytes).hexdigest(),
            "rows": f"the earliest {len(observations)} of {len(trace)} requests by time (the train split)",
            "model": HISTORICAL_MODEL,
        },
    )
