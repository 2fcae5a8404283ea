"""V1 reproduces the frozen M5 table and rules exactly."""

import pytest

from costsim_assets.simulator.v1 import evaluate_v1
from tests.helpers import batch_of, plan

FROZEN = [  # skill, cost, latency, p, risk type
    ("http_call", 0, 500, 0.10, "timeout"),
    ("llm_invoke", 5, 2000, 0.05, "rate_limit"),
    ("json_transform", 0, 10, 0.01, "transform_error"),
    ("fs_read", 0, 50, 0.05, "not_found"),
    ("fs_write", 0, 100, 0.05, "permission"),
    ("shell_lite", 0, 200, 0.10, "timeout"),
    ("kv_get", 0, 5, 0.02, "not_found"),
    ("kv_set", 0, 10, 0.02, "quota"),
    ("webhook_send", 0, 300, 0.10, "timeout"),
    ("email_send", 1, 500, 0.05, "delivery"),
    ("teleport", 10, 1000, 0.20, "unknown"),
]


def result(record: dict) -> dict:
    batch = batch_of(record)
    return evaluate_v1(batch).plan_result(0, batch)


@pytest.mark.parametrize("skill,cost,latency,p,risk_type", FROZEN)
def test_every_row_of_the_frozen_table(skill, cost, latency, p, risk_type):
    out = result(plan([{"skill": skill}]))
    step = out["steps"][0]
    assert (step["cost_cents"], step["latency_ms"], step["failure_probability"], step["risk_type"]) == (
        cost,
        latency,
        p,
        risk_type,
    )
    assert out["estimated_cost_cents"] == cost and isinstance(out["estimated_cost_cents"], int)
    assert out["cumulative_risk"] == pytest.approx(p)
    assert [r["skill"] for r in out["risks"]] == ([skill] if p > 0.05 else [])


def test_unknown_skill_is_warned_once_per_name():
    out = result(plan([{"skill": "teleport"}, {"skill": "teleport"}]))
    assert out["warnings"] == ["unknown skill 'teleport' estimated with default values"]


@pytest.mark.parametrize(
    "params,cost",
    [
        ({"prompt": "x" * 7999}, 7),
        ({"prompt": "x" * 999}, 5),
        ({"prompt": "x" * 12000}, 12),
        ({"prompt_tokens": 3000}, 12),
        ({"prompt_tokens": 100}, 5),
        ({}, 5),
        ({"prompt": "x" * 2000, "prompt_tokens": 9000}, 5),  # text length wins over tokens
    ],
)
def test_llm_cost_is_max_of_5_and_prompt_chars_div_1000(params, cost):
    assert result(plan([{"skill": "llm_invoke", "params": params}]))["estimated_cost_cents"] == cost


@pytest.mark.parametrize("timeout,latency", [(0.2, 200), (0.5, 500), (3, 500), (0.001, 1)])
def test_http_latency_is_capped_by_timeout(timeout, latency):
    out = result(plan([{"skill": "http_call", "params": {"timeout": timeout}}]))
    assert out["estimated_duration_ms"] == pytest.approx(latency)


def test_costs_and_latencies_add_up_and_risk_compounds():
    out = result(plan([{"skill": "llm_invoke"}, {"skill": "email_send"}, {"skill": "kv_get"}], risk=0.9))
    assert out["estimated_cost_cents"] == 6
    assert out["estimated_duration_ms"] == 2505
    assert out["cumulative_risk"] == pytest.approx(1 - 0.95 * 0.95 * 0.98)
    assert out["budget_remaining_cents"] == 994


@pytest.mark.parametrize(
    "record,status",
    [
        (plan([{"skill": "email_send"}], budget=0, allowed=["kv_get"], risk=0.01), "BUDGET_INSUFFICIENT"),
        (plan([{"skill": "email_send"}], allowed=["kv_get"], risk=0.01), "PERMISSION_DENIED"),
        (plan([{"skill": "http_call"}] * 7), "RISK_TOO_HIGH"),
        (plan([]), "INVALID_PLAN"),
        (plan([{"skill": "kv_get"}], allowed=["kv_get"]), "FEASIBLE"),
        (plan([{"skill": "kv_get"}], allowed=[]), "FEASIBLE"),
    ],
)
def test_feasibility_order(record, status):
    out = result(record)
    assert out["status"] == status
    assert out["feasible"] is (status == "FEASIBLE")


def test_risk_threshold_is_strictly_greater():
    assert result(plan([{"skill": "http_call"}], risk=0.1))["status"] == "FEASIBLE"
    assert result(plan([{"skill": "http_call"}], risk=0.09))["status"] == "RISK_TOO_HIGH"


def test_batch_evaluation_matches_one_by_one():
    records = [plan([{"skill": s} for s, *_ in FROZEN[: i + 1]], budget=i * 3, risk=0.99) for i in range(11)]
    batch = batch_of(*records)
    together = evaluate_v1(batch)
    for i, record in enumerate(records):
        assert together.plan_result(i, batch) == result(record)
