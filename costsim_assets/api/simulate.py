"""POST /costsim/simulate: V1 answers; V2 runs in shadow when the flag and routing allow.

Every request leaves provenance, whatever the flag and routing state: V1's half always
(`v2_status` `pending` when V2 will fill in its half, `skipped` when it will not) and invalid
plans as `schema_error`. So outcomes can be reported for every request_id, and the canary has a
day of traffic to judge V2 on (offline) even while V2 is disabled.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from costsim_assets.api.errors import ApiError, responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.services import Services, require, services
from costsim_assets.sandbox.evaluation import Evaluated, evaluate_v1_plans
from costsim_assets.simulator.plan_schema import Plan, SchemaIssue, validate_plan
from costsim_assets.store.provenance import compress
from costsim_assets.store.schema_errors import record_schema_errors
from costsim_assets.store.tables import V2_SKIPPED, provenance
from costsim_assets.version import code_version

router = APIRouter(tags=["simulate"])
TENANT_ID_MAX = provenance.c.tenant_id.type.length


class SimulateResponse(BaseModel):
    request_id: str = Field(
        description="report this request's outcome under this id (POST /costsim/outcomes)"
    )
    shadow: Literal["recorded", "off"] = Field(description="whether V2 runs in shadow for this request")
    result: dict[str, Any]


def _tenant_plan(raw: Any, principal: Principal) -> Any:
    """The tenant is the key's: a plan may omit it, and only admins may name another tenant."""
    if not isinstance(raw, dict):
        return raw
    named = raw.get("tenant_id")
    if named is not None and named != principal.tenant_id and principal.role != "admin":
        raise ApiError(
            403,
            "tenant_mismatch",
            "the plan names a tenant other than the key's",
            {"key_tenant": principal.tenant_id},
        )
    return {**raw, "tenant_id": named or principal.tenant_id}


def _validated(raw: Any) -> Plan | list[SchemaIssue]:
    """The plan schema, plus the store's limit on tenant ids (an admin may name any tenant)."""
    validated = validate_plan(raw)
    if isinstance(validated, Plan) and len(validated.tenant_id) > TENANT_ID_MAX:
        return [SchemaIssue("tenant_id", f"must be at most {TENANT_ID_MAX} characters")]
    return validated


def _row_tenant(raw: Any, principal: Principal) -> str:
    """Whom an invalid plan's provenance row belongs to: the tenant it names if usable, else the key's."""
    named = raw.get("tenant_id") if isinstance(raw, dict) else None
    usable = isinstance(named, str) and named.strip() and len(named) <= TENANT_ID_MAX
    return named if usable else principal.tenant_id


def _provenance_row(
    request_id: str, tenant_id: str, raw: Any, v1: Evaluated | None, v1_ms: float | None, status: str
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC),
        "tenant_id": tenant_id,
        "request_id": request_id,
        "input_hash": v1.input_hash if v1 else None,
        "plan_z": compress(raw),
        "code_version": code_version(),
        "v1_version": v1.version if v1 else None,
        "v1_output_hash": v1.output_hash if v1 else None,
        "v1_output_z": compress(v1.document) if v1 else None,
        "v1_cost_cents": v1.cost_cents if v1 else None,
        "v1_runtime_ms": v1_ms,
        "v2_status": status,
    }


async def _record(svc: Services, row: dict[str, Any], plan: Plan | None) -> None:
    await asyncio.wrap_future(svc.recorder.submit(row, plan))


def _schema_error(svc: Services, request_id: str, raw: Any, issues: list[SchemaIssue]) -> ApiError:
    with svc.engine.begin() as conn:
        record_schema_errors(
            conn,
            "api",
            [
                {"record_id": request_id, "field_path": i.path, "reason": i.reason, "raw_record": raw}
                for i in issues
            ],
        )
    return ApiError(422, "schema_error", "the plan is invalid", [i.to_dict() for i in issues])


@router.post(
    "/costsim/simulate",
    response_model=SimulateResponse,
    responses=responses(400, 401, 403, 422, 429),
    summary="Estimate a plan's cost, duration and risk (V1; V2 in shadow)",
)
async def simulate(
    plan: Any = Body(
        ...,
        description="A plan: steps, budget_cents, allowed_skills, "
        "risk_threshold; tenant_id defaults to the key's",
    ),
    principal: Principal = Depends(require("simulate")),
    svc: Services = Depends(services),
) -> SimulateResponse:
    request_id = uuid.uuid4().hex
    raw = _tenant_plan(plan, principal)
    shadow = svc.v2_should_run()
    validated = _validated(raw)
    if not isinstance(validated, Plan):
        row = _provenance_row(request_id, _row_tenant(raw, principal), raw, None, None, "schema_error")
        await _record(svc, row, None)
        raise _schema_error(svc, request_id, raw, validated)
    started = time.perf_counter()
    v1 = evaluate_v1_plans([validated])[0]
    v1_ms = (time.perf_counter() - started) * 1000
    status = "pending" if shadow else V2_SKIPPED
    row = _provenance_row(request_id, validated.tenant_id, raw, v1, v1_ms, status)
    await _record(svc, row, validated if shadow else None)
    return SimulateResponse(request_id=request_id, shadow="recorded" if shadow else "off", result=v1.document)
