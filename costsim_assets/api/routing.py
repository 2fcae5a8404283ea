"""The V2 kill switch over HTTP: status for readers, enable/disable for admins."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from costsim_assets.api.errors import ApiError, responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.services import Services, require, services
from costsim_assets.store.routing import RoutingState, read_routing_state, transition_routing

router = APIRouter(tags=["v2 routing"])


class Transition(BaseModel):
    at: datetime
    actor_type: str
    actor_id: str
    reason: str
    incident_id: str | None


class V2Status(BaseModel):
    sandbox_flag: bool = Field(description="COSTSIM_V2_SANDBOX, the master switch")
    routing_state: str = Field(description="enabled or disabled (the automatic switch)")
    v2_running: bool = Field(description="whether new simulate calls run V2 in shadow")
    model_version: str
    last_transition: Transition


class ReasonBody(BaseModel):
    reason: str = Field(min_length=3, max_length=2000)


def _status(svc: Services, state: RoutingState) -> V2Status:
    return V2Status(
        sandbox_flag=svc.settings.v2_sandbox,
        routing_state=state.state,
        v2_running=svc.settings.v2_sandbox and state.enabled,
        model_version=svc.v2_model_version,
        last_transition=Transition(
            at=state.updated_at,
            actor_type=state.actor_type,
            actor_id=state.actor_id,
            reason=state.reason,
            incident_id=state.incident_id,
        ),
    )


@router.get("/costsim/v2/status", response_model=V2Status, responses=responses(401, 403, 429))
def v2_status(_: Principal = Depends(require("v2:read")), svc: Services = Depends(services)) -> V2Status:
    with svc.engine.connect() as conn:
        return _status(svc, read_routing_state(conn))


def _move(svc: Services, principal: Principal, to_state: str, reason: str) -> V2Status:
    with svc.engine.begin() as conn:
        moved = transition_routing(
            conn,
            to_state=to_state,
            actor_type="person",
            actor_id=f"{principal.tenant_id}/{principal.key_id}",
            reason=reason,
        )
        if moved is None:
            raise ApiError(409, "no_transition", f"V2 routing is already {to_state}")
        svc.forget_routing()
        return _status(svc, read_routing_state(conn))


@router.post("/costsim/v2/disable", response_model=V2Status, responses=responses(401, 403, 409, 422, 429))
def disable_v2(
    body: ReasonBody, principal: Principal = Depends(require("v2:write")), svc: Services = Depends(services)
) -> V2Status:
    return _move(svc, principal, "disabled", body.reason)


@router.post("/costsim/v2/enable", response_model=V2Status, responses=responses(401, 403, 409, 422, 429))
def enable_v2(
    body: ReasonBody, principal: Principal = Depends(require("v2:write")), svc: Services = Depends(services)
) -> V2Status:
    return _move(svc, principal, "enabled", body.reason)
