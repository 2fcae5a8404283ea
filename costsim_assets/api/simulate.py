"""POST /costsim/simulate: V1 answers; V2 runs in shadow when the flag and routing allow."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from costsim_assets.api.errors import ApiError, responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.services import Services, require, services
from costsim_assets.sandbox.evaluation import Evaluated, evaluate_v1_plans
from costsim_assets.simulator.plan_schema import Plan, SchemaIssue, validate_plan
from costsim_assets.store.provenance import compress
from costsim_assets.store.schema_errors import record_schema_errors
from costsim_assets.version import code_version

router = APIRouter(tags=["simulate"])


class SimulateResponse(BaseModel):
    request_id: str
    shadow: str
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
    validated = validate_plan(raw)
    tenant = raw.get("tenant_id", principal.tenant_id) if isinstance(raw, dict) else principal.tenant_id
    if not isinstance(validated, Plan):
        if shadow:
            await _record(
                svc, _provenance_row(request_id, str(tenant), raw, None, None, "schema_error"), None
            )
        raise _schema_error(svc, request_id, raw, validated)
    started = time.perf_counter()
    v1 = evaluate_v1_plans([validated])[0]
    v1_ms = (time.perf_counter() - started) * 1000
    if shadow:
        await _record(
            svc, _provenance_row(request_id, validated.tenant_id, raw, v1, v1_ms, "pending"), validated
        )
    return SimulateResponse(request_id=request_id, shadow="recorded" if shadow else "off", result=v1.document)
