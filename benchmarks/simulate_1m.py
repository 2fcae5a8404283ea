"""V1 + V2 + paired comparison + hashing on 1,000,000 single-step plans, vectorized, against a plain
per-plan Python loop of the same logic (timed on a sample and scaled). Prints plans/s and the ratio.

    .venv/bin/python benchmarks/simulate_1m.py [--plans 1000000] [--loop-sample 20000]
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
import time

import numpy as np

from costsim_assets.simulator.batch import FEATURES, PlanBatch
from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.skills import KNOWN_SKILLS, SKILL_CODES
from costsim_assets.simulator.v1 import V1_TABLE, V1_UNKNOWN, evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import NETWORK_SKILLS, V2Model, load_v2_model
from costsim_assets.simulator.v2_segments import PROMPT_BIN_EDGES, candidate_keys, first_present
from costsim_assets.statistics.divergence import divergence_summary

SKILLS = (*KNOWN_SKILLS, "mystery_skill")
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4")
TENANTS = tuple(f"tenant-{i:02d}" for i in range(20))


def single_step_batch(n: int, seed: int = 1) -> PlanBatch:
    """n one-step plans built straight into columns (what a provenance table would hold)."""
    rng = np.random.default_rng(seed)
    skill_id = rng.integers(0, len(SKILLS), n)
    nan = np.full(n, np.nan)
    is_llm = skill_id == SKILLS.index("llm_invoke")
    network = np.isin(skill_id, [SKILLS.index("http_call"), SKILLS.index("webhook_send")])
    features = {name: nan.copy() for name in FEATURES}
    features["prompt_tokens"] = np.where(is_llm, rng.integers(10, 8000, n).astype(float), np.nan)
    features["timeout_s"] = np.where(network, rng.uniform(0.1, 10, n), np.nan)
    features["url_external"] = np.where(network, rng.integers(0, 2, n).astype(float), np.nan)
    features["payload_bytes"] = np.where(~is_llm & ~network, rng.integers(0, 10**6, n).astype(float), np.nan)
    return PlanBatch(
        budget_cents=rng.integers(0, 200, n).astype(float),
        risk_threshold=np.full(n, 0.5),
        allowed_key=np.full(n, -1),
        allowed_sets=(),
        step_offsets=np.arange(n + 1),
        skill_names=SKILLS,
        step_skill_id=skill_id,
        step_permitted=np.ones(n, dtype=bool),
        step_model_id=np.where(is_llm, rng.integers(0, len(MODELS), n), -1),
        model_names=MODELS,
        features=features,
        tenant_names=TENANTS,
        plan_tenant_id=rng.integers(0, len(TENANTS), n),
    )


def vectorized(batch: PlanBatch, model: V2Model) -> dict:
    v1, v2 = evaluate_v1(batch), evaluate_v2(batch, model)
    hashes = (input_hashes(batch), output_hashes(v1), output_hashes(v2))
    summary = divergence_summary(v1.cost_cents, v2.cost_cents)
    return {"v1": v1.cost_cents, "v2": v2.cost_cents, "hashes": hashes, "summary": summary}


def _v1_plan(skill: str, f: dict, budget: float) -> tuple[float, float, float, str]:
    cost, latency, p = V1_TABLE.get(skill, V1_UNKNOWN)
    if skill == "llm_invoke":
        chars = 4 * f["prompt_tokens"] if math.isnan(f["prompt_chars"]) else f["prompt_chars"]
        cost = 5 if math.isnan(chars) else max(5, chars // 1000)
    if skill == "http_call" and not math.isnan(f["timeout_s"]):
        latency = min(500, f["timeout_s"] * 1000)
    status = "BUDGET_INSUFFICIENT" if cost > budget else "RISK_TOO_HIGH" if p > 0.5 else "FEASIBLE"
    return cost, latency, p, status


def _v2_plan(
    skill: str, f: dict, model_name: str | None, tenant: str, m: V2Model
) -> tuple[float, float, float, float]:
    code = SKILL_CODES.get(skill, len(KNOWN_SKILLS))
    if skill == "llm_invoke":
        tokens = f["prompt_tokens"] if f["prompt_tokens"] == f["prompt_tokens"] else m.default_prompt_tokens
        name = model_name or m.prices.default_model
        b = min(max(bisect.bisect_right(PROMPT_BIN_EDGES, tokens) - 1, 0), len(PROMPT_BIN_EDGES) - 1)
        segment = first_present(candidate_keys(tenant, name, b), m.segments.index)
        out_mean, out_high = m.segments.stats["mean"][segment], m.segments.stats["high"][segment]
        price_in, price_out = m.prices.cents_per_token(name)
        c0, c1, c2 = m.llm_latency_coef
        return (
            tokens * price_in + out_mean * price_out,
            tokens * price_in + out_high * price_out,
            c0 + c1 * tokens + c2 * out_mean,
            float(m.failure_p[code]),
        )
    external = f["url_external"] if f["url_external"] == f["url_external"] else 1.0
    row = (
        1.0,
        (f["payload_bytes"] if f["payload_bytes"] == f["payload_bytes"] else 0.0) / 1000.0,
        0.0,
        external if code in NETWORK_SKILLS else 0.0,
    )
    latency = max(sum(a * b for a, b in zip(row, m.latency_coef[code], strict=False)), 0.1)
    if code in (*NETWORK_SKILLS, SKILL_CODES["shell_lite"]) and f["timeout_s"] == f["timeout_s"]:
        latency = min(latency, f["timeout_s"] * 1000)
    cost = float(m.skill_cost_cents[code])
    return cost, cost, latency * m.latency_factors[code, 1], float(m.failure_p[code])


def per_plan_loop(batch: PlanBatch, model: V2Model, n: int) -> tuple[list[float], list[float]]:
    """The same logic one plan at a time in plain Python, hashing each plan's JSON."""
    v1_costs, v2_costs = [], []
    columns = {name: batch.feature(name)[:n].tolist() for name in FEATURES}
    for i in range(n):
        skill = batch.skill_names[batch.step_skill_id[i]]
        f = {name: columns[name][i] for name in FEATURES}
        model_id = batch.step_model_id[i]
        model_name = batch.model_names[model_id] if model_id >= 0 else None
        tenant = batch.tenant_names[batch.plan_tenant_id[i]]
        v1 = _v1_plan(skill, f, batch.budget_cents[i])
        v2 = _v2_plan(skill, f, model_name, tenant, model)
        hashlib.sha256(
            json.dumps({"skill": skill, "model": model_name, **f}, sort_keys=True).encode()
        ).hexdigest()
        hashlib.sha256(json.dumps(v1).encode()).hexdigest()
        hashlib.sha256(json.dumps(v2).encode()).hexdigest()
        v1_costs.append(v1[0])
        v2_costs.append(v2[0])
    divergence_summary(np.array(v1_costs), np.array(v2_costs))
    return v1_costs, v2_costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plans", type=int, default=1_000_000)
    parser.add_argument("--loop-sample", type=int, default=20_000)
    args = parser.parse_args()
    model = load_v2_model()
    batch = single_step_batch(args.plans)
    vectorized(single_step_batch(1000), model)  # warm-up: imports and caches

    start = time.perf_counter()
    result = vectorized(batch, model)
    vector_s = time.perf_counter() - start

    start = time.perf_counter()
    loop_v1, loop_v2 = per_plan_loop(batch, model, args.loop_sample)
    loop_s = (time.perf_counter() - start) * args.plans / args.loop_sample
    assert np.allclose(loop_v1, result["v1"][: args.loop_sample])
    assert np.allclose(loop_v2, result["v2"][: args.loop_sample])

    print(f"plans: {args.plans:,} single-step (skills {len(SKILLS)}, models {len(MODELS)})")
    print(
        f"vectorized V1+V2+hashes+paired comparison: {vector_s:.2f} s = {args.plans / vector_s:,.0f} plans/s"
    )
    print(
        f"per-plan Python loop (timed on {args.loop_sample:,}, scaled): {loop_s:.2f} s = "
        f"{args.plans / loop_s:,.0f} plans/s"
    )
    print(f"ratio vectorized / loop: {loop_s / vector_s:.1f}x   (target: <= 3 s and >= 10x)")
    print(f"paired summary: {json.dumps(result['summary'].to_dict(), default=str)[:300]}")


if __name__ == "__main__":
    main()
