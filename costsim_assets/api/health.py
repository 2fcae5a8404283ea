"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from costsim_assets.api.services import Services, services
from costsim_assets.store.engine import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to head",
    responses={503: {"description": "not ready"}},
)
def readyz(svc: Services = Depends(services)) -> JSONResponse:
    try:
        revision = current_revision(svc.engine)
    except Exception as error:
        return JSONResponse(
            {"status": "unavailable", "reason": f"database unreachable: {type(error).__name__}"},
            status_code=503,
        )
    if revision != head_revision():
        return JSONResponse(
            {"status": "unavailable", "reason": f"migrations at {revision}, head is {head_revision()}"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "revision": revision})
