"""A malformed plan yields structured errors (path + reason), never an exception."""

import pytest

from costsim_assets.simulator.plan_schema import Plan, SchemaIssue, validate_plan
from tests.helpers import plan


def issues(raw) -> list[tuple[str, str]]:
    result = validate_plan(raw)
    assert isinstance(result, list)
    return [(i.path, i.reason) for i in result]


def test_valid_plan_with_defaults():
    result = validate_plan(plan([{"skill": "kv_get"}]))
    assert isinstance(result, Plan)
    assert result.risk_threshold == 0.5 and result.allowed_skills is None
    assert result.steps[0].params == {}


def test_json_text_is_accepted():
    assert isinstance(validate_plan('{"steps": [], "budget_cents": 1, "tenant_id": "t"}'), Plan)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("{not json", [("$", "not valid JSON: Expecting property name enclosed in double quotes")]),
        ([1, 2], [("$", "plan must be a JSON object")]),
        ({"budget_cents": 1, "tenant_id": "t"}, [("steps", "is required")]),
        ({"steps": "x", "budget_cents": 1, "tenant_id": "t"}, [("steps", "must be a list")]),
        (plan([3]), [("steps[0]", "must be an object")]),
        (plan([{"skill": ""}]), [("steps[0].skill", "must be a non-empty string")]),
        (plan([{"skill": "a", "params": []}]), [("steps[0].params", "must be an object")]),
        (
            plan([{"skill": "a", "params": {"timeout": -1}}]),
            [("steps[0].params.timeout", "out of range (must be > 0)")],
        ),
        (
            plan([{"skill": "a", "params": {"timeout": 0}}]),
            [("steps[0].params.timeout", "out of range (must be > 0)")],
        ),
        (
            plan([{"skill": "a", "params": {"prompt_tokens": -5}}]),
            [("steps[0].params.prompt_tokens", "out of range (must be >= 0)")],
        ),
        (
            plan([{"skill": "a", "params": {"max_tokens": 1.5}}]),
            [("steps[0].params.max_tokens", "must be an integer")],
        ),
        (
            plan([{"skill": "a", "params": {"timeout": "3"}}]),
            [("steps[0].params.timeout", "must be a number")],
        ),
        (plan([{"skill": "a", "params": {"prompt": 5}}]), [("steps[0].params.prompt", "must be a string")]),
        (plan([], budget=-1), [("budget_cents", "must be a non-negative integer")]),
        (plan([], budget=True), [("budget_cents", "must be a non-negative integer")]),
        ({"steps": [], "tenant_id": "t"}, [("budget_cents", "is required")]),
        (plan([], tenant=""), [("tenant_id", "must be a non-empty string")]),
        (plan([], allowed="kv_get"), [("allowed_skills", "must be a list of strings")]),
        (plan([], risk=1.5), [("risk_threshold", "must be a number in [0, 1]")]),
        (plan([], risk=float("nan")), [("risk_threshold", "must be a number in [0, 1]")]),
    ],
)
def test_each_malformation_is_named_by_path(raw, expected):
    assert issues(raw) == expected


def test_all_issues_are_reported_together():
    found = issues({"steps": [{"skill": 1, "params": {"timeout": -1}}], "budget_cents": -1})
    assert [path for path, _ in found] == [
        "steps[0].skill",
        "steps[0].params.timeout",
        "budget_cents",
        "tenant_id",
    ]
    assert SchemaIssue("a", "b").to_dict() == {"path": "a", "reason": "b"}
