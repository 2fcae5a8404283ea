"""Small builders shared by tests."""

from __future__ import annotations

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.plan_schema import Plan, validate_plan


def plan(steps, budget=1000, allowed=None, risk=None, tenant="tenant-a") -> dict:
    record = {"steps": steps, "budget_cents": budget, "tenant_id": tenant}
    if allowed is not None:
        record["allowed_skills"] = allowed
    if risk is not None:
        record["risk_threshold"] = risk
    return record


def batch_of(*records: dict) -> PlanBatch:
    plans = [validate_plan(r) for r in records]
    assert all(isinstance(p, Plan) for p in plans), plans
    return PlanBatch.from_plans(plans)
