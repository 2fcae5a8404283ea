"""Seeded canary days drawn from a real trace, unchanged (A/A) or under a named shift, for setting
the canary's thresholds from a measured false-alarm rate and measuring their detection power.

A day is what the traffic replay produces: requests drawn with replacement from the trace, each
with its real outcome. V2's forecasts are computed once for the whole trace (and once more for a
shift that changes the inputs), so thousands of days cost only array indexing and the judgement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costsim_assets.canary.judgement import JudgementConfig, RequestOutcomes, StepForecasts, judge
from costsim_assets.canary.outcome_day import outcome_day, reference_profile
from costsim_assets.simulator.v2_model import V2Model


@dataclass(frozen=True)
class Shift:
    """A named change of the world: output lengths, prompt lengths, prices or the skill mix."""

    name: str
    output_scale: float = 1.0
    prompt_scale: float = 1.0
    price_scale: float = 1.0
    other_skill_share: float = 0.0


AA = Shift("A/A (unchanged traffic)")
NAMED_SHIFTS = (
    Shift("output lengths x1.3", output_scale=1.3),
    Shift("output lengths x2", output_scale=2.0),
    Shift("prompt lengths x2", prompt_scale=2.0),
    Shift("prices x1.2", price_scale=1.2),
    Shift("skill mix: 30 % non-LLM requests", other_skill_share=0.3),
)
OTHER_SKILL = "http_call"


def trace_pool(
    context_tokens: np.ndarray, generated_tokens: np.ndarray, model_name: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One single-step llm_invoke request per trace row (as the replay builds them) and its outcome."""
    n = len(context_tokens)
    ids = np.array([f"r{i}" for i in range(n)])
    sample = pd.DataFrame(
        {
            "id": ids,
            "plan_json": [
                f'{{"budget_cents":100,"steps":[{{"params":{{"model":"{model_name}","prompt_tokens":{int(c)}}},'
                f'"skill":"llm_invoke"}}],"tenant_id":"t"}}'
                for c in context_tokens
            ],
        }
    )
    steps = pd.DataFrame(
        {
            "provenance_id": ids,
            "step_index": 0,
            "skill": "llm_invoke",
            "model": model_name,
            "input_tokens": context_tokens.astype(np.float64),
            "output_tokens": generated_tokens.astype(np.float64),
            "cost_cents": np.nan,
            "latency_ms": np.nan,
            "status": "ok",
        }
    )
    return sample, steps


class DaySimulator:
    """Forecasts for a trace pool, precomputed per input scale; days drawn by index."""

    def __init__(self, sample: pd.DataFrame, steps: pd.DataFrame, model: V2Model) -> None:
        self.sample, self.steps, self.model = sample, steps, model
        self._forecasts: dict[float, tuple[StepForecasts, RequestOutcomes]] = {}

    def _pool(self, prompt_scale: float) -> tuple[StepForecasts, RequestOutcomes]:
        """Forecasts and list costs of every pool request with its prompts scaled."""
        if prompt_scale not in self._forecasts:
            scaled = self.steps.assign(input_tokens=np.round(self.steps["input_tokens"] * prompt_scale))
            plans = self.sample.assign(
                plan_json=[
                    text.replace(f'"prompt_tokens":{int(c)}}}', f'"prompt_tokens":{int(s)}}}')
                    for text, c, s in zip(
                        self.sample["plan_json"],
                        self.steps["input_tokens"],
                        scaled["input_tokens"],
                        strict=True,
                    )
                ]
            )
            listed = _with_list_cost(scaled, self.model)
            day = outcome_day(plans, listed, self.model)
            self._forecasts[prompt_scale] = (day.steps, day.requests)
        return self._forecasts[prompt_scale]

    def day(
        self, rng: np.random.Generator, n: int, shift: Shift = AA
    ) -> tuple[StepForecasts, RequestOutcomes]:
        """One day of `n` requests under `shift` (LLM requests keep their real outcomes)."""
        steps, requests = self._pool(shift.prompt_scale)
        pick = rng.integers(0, len(steps.actual_tokens), n)
        actual = np.maximum(1.0, np.round(steps.actual_tokens[pick] * shift.output_scale))
        price_in, price_out = self.model.prices.cents_per_token(str(steps.model[0]))
        listed = steps.input_tokens[pick] * price_in + actual * price_out
        picked = {f: getattr(steps, f)[pick] for f in StepForecasts.__dataclass_fields__}
        day_steps = StepForecasts(
            **{**picked, "actual_tokens": actual, "billed_cost": listed * shift.price_scale}
        )
        others = int(round(n * shift.other_skill_share))
        skills = np.concatenate([np.full(n, "llm_invoke"), np.full(others, OTHER_SKILL)])
        zeros = np.zeros(others)
        return day_steps, RequestOutcomes(
            predicted_cost=np.concatenate([requests.predicted_cost[pick], zeros]),
            billed_cost=np.concatenate([listed * shift.price_scale, zeros]),
            list_cost=np.concatenate([listed, zeros]),
            predicted_latency=np.concatenate([requests.predicted_latency[pick], zeros]),
            actual_latency=np.full(n + others, np.nan),
            skills=skills,
        )


def _with_list_cost(steps: pd.DataFrame, model: V2Model) -> pd.DataFrame:
    """Outcome steps billed at list price (what the replay reports)."""
    price_in, price_out = model.prices.cents_per_token(str(steps["model"].iat[0]))
    return steps.assign(cost_cents=steps["input_tokens"] * price_in + steps["output_tokens"] * price_out)


def judge_days(
    simulator: DaySimulator, config: JudgementConfig, size: int, days: int, shift: Shift = AA, seed: int = 0
) -> list[dict]:
    """The judgement of `days` seeded days of `size` requests each under `shift`."""
    rng = np.random.default_rng(seed)
    profile = reference_profile(simulator.model)
    return [judge(*simulator.day(rng, size, shift), profile, config) for _ in range(days)]
