"""POST /costsim/outcomes: callers report what really happened, keyed by simulate's request_id.

The tenant is the key's: a request of another tenant answers exactly like one that never existed.
A body that does not match the schema is a 422 with field paths and writes nothing; a valid batch
gets one answer per item (sandbox/outcomes.py) and its accepted items are one transaction.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from costsim_assets.api.errors import responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.services import Services, require, services
from costsim_assets.sandbox.outcomes import (
    AnswerStatus,
    ReportedOutcome,
    StepOutcome,
    record_reported_outcomes,
)

router = APIRouter(tags=["outcomes"])
MAX_BATCH = 1000
MAX_STEPS = 200
STEP_EXAMPLE = {
    "skill": "llm_invoke",
    "model": "gpt-4o",
    "input_tokens": 1200,
    "output_tokens": 212,
    "cost_cents": 0.512,
    "latency_ms": 2140.0,
    "status": "ok",
}


class OutcomeStepIn(BaseModel):
    """One executed step, in plan order."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [STEP_EXAMPLE]})

    skill: str = Field(min_length=1, max_length=128, description="must equal the plan's skill at this index")
    model: str | None = Field(None, max_length=128, description="the model that really ran (LLM steps)")
    input_tokens: int | None = Field(None, ge=0, description="billed input tokens (LLM steps)")
    output_tokens: int | None = Field(None, ge=0, description="generated tokens (LLM steps)")
    cost_cents: float = Field(ge=0, allow_inf_nan=False, description="what the provider billed, in cents")
    latency_ms: float | None = Field(
        None, ge=0, allow_inf_nan=False, description="measured wall time; omit when not measured"
    )
    status: Literal["ok", "error", "timeout", "skipped"]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(min_length=1, max_length=64, description="the request_id simulate returned")
    steps: list[OutcomeStepIn] = Field(max_length=MAX_STEPS, description="one per plan step, in order")


class OutcomeBatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"outcomes": [{"request_id": "3f2b8c0e9a8d4c1b9e7f6a5d4c3b2a10", "steps": [STEP_EXAMPLE]}]}
            ]
        },
    )

    outcomes: list[OutcomeIn] = Field(min_length=1, max_length=MAX_BATCH)


class OutcomeAnswer(BaseModel):
    request_id: str
    status: AnswerStatus
    reason: str | None = Field(None, description="why it was not accepted (conflict, too_late, rejected)")


class OutcomeBatchOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "request_id": "3f2b8c0e9a8d4c1b9e7f6a5d4c3b2a10",
                            "status": "accepted",
                            "reason": None,
                        },
                        {
                            "request_id": "no-such-request",
                            "status": "unknown_request",
                            "reason": "no such request for this tenant",
                        },
                    ],
                    "counts": {"accepted": 1, "unknown_request": 1},
                }
            ]
        }
    )

    results: list[OutcomeAnswer] = Field(description="one answer per reported outcome, in order")
    counts: dict[str, int] = Field(description="answers per status (statuses that occurred)")


def _reported(item: OutcomeIn) -> ReportedOutcome:
    return ReportedOutcome(item.request_id, tuple(StepOutcome(**step.model_dump()) for step in item.steps))


@router.post(
    "/costsim/outcomes",
    response_model=OutcomeBatchOut,
    responses=responses(400, 401, 403, 422, 429),
    summary=f"Report realized outcomes of simulated requests (a batch of at most {MAX_BATCH})",
    description="Per item: accepted, duplicate (the same payload again: nothing changes), conflict "
    "(a different payload after the first: the first wins), unknown_request (no such request for "
    "this key's tenant), too_late (older than COSTSIM_OUTCOME_MAX_AGE_DAYS) or rejected (does not "
    "fit the plan: step count, a step's skill, tokens of a completed LLM step).",
)
def report_outcomes(
    body: OutcomeBatchIn,
    principal: Principal = Depends(require("outcomes:write")),
    svc: Services = Depends(services),
) -> OutcomeBatchOut:
    answers = record_reported_outcomes(
        svc.sandbox_engine,
        principal.tenant_id,
        [_reported(item) for item in body.outcomes],
        now=datetime.now(UTC),
        max_age=timedelta(days=svc.settings.outcome_max_age_days),
    )
    return OutcomeBatchOut(
        results=[OutcomeAnswer(request_id=a.request_id, status=a.status, reason=a.reason) for a in answers],
        counts=dict(Counter(a.status for a in answers)),
    )
