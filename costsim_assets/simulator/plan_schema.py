"""Plan schema: turns untrusted plan records into typed plans or structured schema errors.

A malformed plan is data, not an exception: callers get a list of `SchemaIssue` (field path +
reason) so a batch keeps going and the errors can be counted and stored for inspection.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RISK_THRESHOLD = 0.5

# Parameters the simulators read, with the type each must have and its lower bound.
NUMERIC_PARAMS: dict[str, tuple[type | tuple[type, ...], float]] = {
    "prompt_tokens": (int, 0),
    "max_tokens": (int, 1),
    "timeout": ((int, float), 0),
    "payload_bytes": (int, 0),
}
STRING_PARAMS = ("prompt", "url", "command", "model")


@dataclass(frozen=True)
class SchemaIssue:
    """One reason a plan record is invalid: where (JSON-path-like) and why."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Step:
    skill: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A validated plan; `allowed_skills` None means every skill is allowed."""

    steps: tuple[Step, ...]
    budget_cents: int
    tenant_id: str
    allowed_skills: frozenset[str] | None = None
    risk_threshold: float = DEFAULT_RISK_THRESHOLD


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_params(params: Any, path: str) -> list[SchemaIssue]:
    if not isinstance(params, Mapping):
        return [SchemaIssue(path, "must be an object")]
    issues: list[SchemaIssue] = []
    for name, (kind, lower) in NUMERIC_PARAMS.items():
        if name not in params:
            continue
        value = params[name]
        valid_type = _is_int(value) if kind is int else _is_number(value)
        if not valid_type:
            expected = "an integer" if kind is int else "a number"
            issues.append(SchemaIssue(f"{path}.{name}", f"must be {expected}"))
        elif value < lower or (name == "timeout" and value == 0):
            issues.append(
                SchemaIssue(
                    f"{path}.{name}",
                    f"out of range (must be > {lower})"
                    if name == "timeout"
                    else f"out of range (must be >= {lower})",
                )
            )
    for name in STRING_PARAMS:
        if name in params and not isinstance(params[name], str):
            issues.append(SchemaIssue(f"{path}.{name}", "must be a string"))
    return issues


def _check_steps(steps: Any) -> list[SchemaIssue]:
    if not isinstance(steps, list):
        return [SchemaIssue("steps", "must be a list")]
    issues: list[SchemaIssue] = []
    for index, step in enumerate(steps):
        path = f"steps[{index}]"
        if not isinstance(step, Mapping):
            issues.append(SchemaIssue(path, "must be an object"))
            continue
        skill = step.get("skill")
        if not isinstance(skill, str) or not skill.strip():
            issues.append(SchemaIssue(f"{path}.skill", "must be a non-empty string"))
        issues.extend(_check_params(step.get("params", {}), f"{path}.params"))
    return issues


def _check_plan_fields(raw: Mapping[str, Any]) -> list[SchemaIssue]:
    issues: list[SchemaIssue] = []
    if "steps" not in raw:
        issues.append(SchemaIssue("steps", "is required"))
    else:
        issues.extend(_check_steps(raw["steps"]))
    budget = raw.get("budget_cents")
    if budget is None:
        issues.append(SchemaIssue("budget_cents", "is required"))
    elif not _is_int(budget) or budget < 0:
        issues.append(SchemaIssue("budget_cents", "must be a non-negative integer"))
    tenant = raw.get("tenant_id")
    if not isinstance(tenant, str) or not tenant.strip():
        issues.append(SchemaIssue("tenant_id", "must be a non-empty string"))
    allowed = raw.get("allowed_skills")
    if allowed is not None and (
        not isinstance(allowed, list) or not all(isinstance(s, str) for s in allowed)
    ):
        issues.append(SchemaIssue("allowed_skills", "must be a list of strings"))
    risk = raw.get("risk_threshold", DEFAULT_RISK_THRESHOLD)
    if not _is_number(risk) or not 0.0 <= risk <= 1.0:
        issues.append(SchemaIssue("risk_threshold", "must be a number in [0, 1]"))
    return issues


def validate_plan(raw: Any) -> Plan | list[SchemaIssue]:
    """Validate one plan record (dict or JSON text); never raises on bad input."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as error:
            return [SchemaIssue("$", f"not valid JSON: {error.msg}")]
    if not isinstance(raw, Mapping):
        return [SchemaIssue("$", "plan must be a JSON object")]
    issues = _check_plan_fields(raw)
    if issues:
        return issues
    allowed = raw.get("allowed_skills")
    return Plan(
        steps=tuple(Step(s["skill"], dict(s.get("params", {}))) for s in raw["steps"]),
        budget_cents=raw["budget_cents"],
        tenant_id=raw["tenant_id"],
        allowed_skills=frozenset(allowed) if allowed else None,
        risk_threshold=float(raw.get("risk_threshold", DEFAULT_RISK_THRESHOLD)),
    )
