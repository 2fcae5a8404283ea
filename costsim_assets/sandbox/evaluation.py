"""One-call evaluation helpers used by the API and the shadow worker (batch-of-N, vectorized)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.plan_schema import Plan
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model


@dataclass(frozen=True)
class Evaluated:
    """A version's answer for one plan: the document callers see, its hash and its cost."""

    version: str
    input_hash: str
    document: dict
    output_hash: str
    cost_cents: float


def _evaluated(batch: PlanBatch, output) -> list[Evaluated]:
    inputs, outputs = input_hashes(batch), output_hashes(output)
    return [
        Evaluated(
            output.version, inputs[i], output.plan_result(i, batch), outputs[i], float(output.cost_cents[i])
        )
        for i in range(batch.n_plans)
    ]


def evaluate_v1_plans(plans: Sequence[Plan]) -> list[Evaluated]:
    batch = PlanBatch.from_plans(plans)
    return _evaluated(batch, evaluate_v1(batch))


class V2Evaluator:
    """V2 over a list of plans with one loaded model (the shadow worker's default evaluator)."""

    def __init__(self, model: V2Model) -> None:
        self.model = model

    def __call__(self, plans: Sequence[Plan]) -> list[Evaluated]:
        batch = PlanBatch.from_plans(plans)
        return _evaluated(batch, evaluate_v2(batch, self.model))
