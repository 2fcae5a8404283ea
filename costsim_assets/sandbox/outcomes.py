"""Realized outcomes: what really happened to a simulated plan, checked against that plan.

A caller reports outcomes by the `request_id` simulate returned. Each reported outcome gets exactly
one answer, and only `accepted` writes anything:

- `unknown_request`: no such request for the reporting tenant (another tenant's id answers the same);
- `duplicate`: the same payload was already recorded (a resend changes nothing);
- `conflict`: a different payload was already recorded (the first write wins);
- `too_late`: the request is older than the configured maximum age;
- `rejected`: the outcome does not fit the plan (step count, a step's skill, missing LLM tokens).

A batch is one transaction. Two batches racing for the same request can both find it free; the
loser's insert violates the primary key, and the batch is classified again, now seeing the winner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.store.outcomes import RequestRef, find_requests, insert_outcomes, recorded_digests
from costsim_assets.store.provenance import decompress

AnswerStatus = Literal["accepted", "duplicate", "conflict", "unknown_request", "too_late", "rejected"]
LLM_SKILL = "llm_invoke"
ATTEMPTS = 3


@dataclass(frozen=True)
class StepOutcome:
    """One executed step: tokens, the billed cost, latency (None when nobody measured it), status."""

    skill: str
    cost_cents: float
    status: str
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    latency_ms: float | None = None


@dataclass(frozen=True)
class ReportedOutcome:
    request_id: str
    steps: tuple[StepOutcome, ...]


@dataclass(frozen=True)
class Answer:
    request_id: str
    status: AnswerStatus
    reason: str | None = None


def payload_digest(steps: Sequence[StepOutcome]) -> str:
    """sha256 of the steps as canonical JSON: equal payloads (whatever their key order) are equal."""
    text = json.dumps([asdict(step) for step in steps], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_mismatch(plan: Plan, steps: Sequence[StepOutcome]) -> str | None:
    """Why these steps cannot be the plan's execution, or None when they fit."""
    if len(steps) != len(plan.steps):
        return f"the plan has {len(plan.steps)} steps, the outcome {len(steps)}"
    for index, (planned, step) in enumerate(zip(plan.steps, steps, strict=True)):
        if step.skill != planned.skill:
            return f"steps[{index}].skill is {step.skill!r}; the plan's step {index} is {planned.skill!r}"
        if (
            step.skill == LLM_SKILL
            and step.status == "ok"
            and None in (step.input_tokens, step.output_tokens)
        ):
            return f"steps[{index}]: a completed {LLM_SKILL} step needs input_tokens and output_tokens"
    return None


def outcome_rows(
    provenance_id: str,
    tenant_id: str,
    request_id: str,
    steps: Sequence[StepOutcome],
    *,
    received_at: datetime,
    source: str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The request row and step rows that record one outcome."""
    request = {
        "provenance_id": provenance_id,
        "tenant_id": tenant_id,
        "request_id": request_id,
        "received_at": received_at,
        "source": source,
        "payload_sha256": payload_digest(steps),
    }
    rows = [
        {"provenance_id": provenance_id, "step_index": i, "tenant_id": tenant_id, **asdict(step)}
        for i, step in enumerate(steps)
    ]
    return request, rows


def _answer(
    item: ReportedOutcome, ref: RequestRef | None, recorded: str | None, now: datetime, max_age: timedelta
) -> tuple[AnswerStatus, str | None]:
    """(status, reason) for one reported outcome, checked in the order the module docstring gives."""
    if ref is None:
        return "unknown_request", "no such request for this tenant"
    if recorded is not None:
        if recorded == payload_digest(item.steps):
            return "duplicate", None
        return "conflict", "a different outcome was recorded first"
    if now - ref.created_at > max_age:
        return "too_late", f"the request is older than {max_age.total_seconds() / 86400:g} days"
    plan = validate_plan(decompress(ref.plan_z))
    if not isinstance(plan, Plan):
        return "rejected", "the request's plan failed validation: it has no steps to match"
    reason = plan_mismatch(plan, item.steps)
    return ("rejected", reason) if reason else ("accepted", None)


def _record(
    conn: sa.Connection, tenant_id: str, items: Sequence[ReportedOutcome], now: datetime, max_age: timedelta
) -> list[Answer]:
    known = find_requests(conn, tenant_id, [item.request_id for item in items])
    recorded = recorded_digests(conn, tenant_id, [ref.provenance_id for ref in known.values()])
    answers, requests, steps = [], [], []
    for item in items:
        ref = known.get(item.request_id)
        status, reason = _answer(item, ref, recorded.get(ref.provenance_id) if ref else None, now, max_age)
        if status == "accepted":
            request, rows = outcome_rows(
                ref.provenance_id, tenant_id, item.request_id, item.steps, received_at=now, source="api"
            )
            requests.append(request)
            steps.extend(rows)
            recorded[ref.provenance_id] = request["payload_sha256"]  # a repeat later in the batch
        answers.append(Answer(item.request_id, status, reason))
    insert_outcomes(conn, requests, steps, tenant_id=tenant_id)
    return answers


def record_reported_outcomes(
    engine: sa.Engine,
    tenant_id: str,
    items: Sequence[ReportedOutcome],
    *,
    now: datetime,
    max_age: timedelta,
    attempts: int = ATTEMPTS,
) -> list[Answer]:
    """One answer per item, in order; the accepted ones are written in one transaction."""
    try:
        with engine.begin() as conn:
            return _record(conn, tenant_id, items, now, max_age)
    except sa.exc.IntegrityError:  # a concurrent batch recorded one of these requests first
        if attempts <= 1:
            raise
        return record_reported_outcomes(
            engine, tenant_id, items, now=now, max_age=max_age, attempts=attempts - 1
        )
