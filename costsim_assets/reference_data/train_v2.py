"""Training the V2 artifact: output lengths from the real trace's training split, latency and
failure rates from execution-model observations drawn with a seed no golden dataset uses."""

from __future__ import annotations

import hashlib

import numpy as np

from costsim_assets.reference_data.execution_model import execute
from costsim_assets.reference_data.historical import is_training_row, parse_trace
from costsim_assets.reference_data.synthetic import GENERATORS
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.plan_schema import validate_plan
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.v2_fit import build_artifact

TRAINING_SEED = 9001
TRAINING_PLANS_PER_GENERATOR = 1500
SKILL_COST_CENTS = {"email_send": 0.01, "unknown": 10.0}


def training_steps(prices: PriceTable):
    """Plans from the clean generators, executed once: the latency/failure observations."""
    rng = np.random.default_rng(TRAINING_SEED)
    records = [
        r
        for name in ("low_variance", "high_variance", "mixed_city")
        for r in GENERATORS[name](rng, TRAINING_PLANS_PER_GENERATOR)
    ]
    batch = PlanBatch.from_plans([validate_plan(r["plan"]) for r in records])
    return batch, execute(batch, prices, rng)


def train_v2_artifact(trace_bytes: bytes, prices: PriceTable) -> dict:
    """The V2 artifact for this trace and price table (deterministic)."""
    trace = parse_trace(trace_bytes)
    context = trace["ContextTokens"].to_numpy(np.float64)
    generated = trace["GeneratedTokens"].to_numpy(np.float64)
    train = is_training_row(np.arange(len(trace)))
    batch, observed = training_steps(prices)
    return build_artifact(
        prices=prices,
        trace_train=(context[train], generated[train]),
        trace_heldout=(context[~train], generated[~train]),
        steps=batch,
        step_latency_ms=observed.step_latency_ms,
        step_failed=observed.step_failed,
        step_in_tokens=observed.step_in_tokens,
        step_out_tokens=observed.step_out_tokens,
        skill_cost_cents=SKILL_COST_CENTS,
        training_data={
            "trace_sha256": hashlib.sha256(trace_bytes).hexdigest(),
            "trace_train_rows": int(train.sum()),
            "execution_observation_seed": TRAINING_SEED,
            "execution_observation_steps": int(len(batch.step_skill_id)),
        },
    )
