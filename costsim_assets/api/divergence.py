"""Cost divergence reports over HTTP: V2 against V1 for a date range, and signed report downloads."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from costsim_assets.api.errors import ApiError, responses
from costsim_assets.api.keys import Principal
from costsim_assets.api.params import parse_instant
from costsim_assets.api.services import Services, require, services, tenant_for
from costsim_assets.canary.config import load_canary_config
from costsim_assets.reports.divergence import (
    FILE_ROUTE,
    MEDIA_TYPES,
    csv_chunks,
    divergence_summary_for,
    jsonl_chunks,
    locate_report_file,
    pair_rows,
    parquet_bytes,
    report_file_route,
)
from costsim_assets.security.signing import parse_signing_keys, verify_url
from costsim_assets.store.provenance import query_provenance

router = APIRouter(tags=["reports"])
MAX_RANGE = timedelta(days=93)
ReportFormat = Literal["json", "csv", "jsonl", "parquet"]


@cache
def _tolerances() -> tuple[float, float]:
    """The canary's matching tolerances, so a report and the canary agree on what matches."""
    config = load_canary_config()
    return config.matching_rel_tol, config.matching_abs_tol


def _range(start: str, end: str) -> tuple[datetime, datetime]:
    """[start, end) checked: non-empty and at most MAX_RANGE, so one request stays bounded."""
    first, last = parse_instant(start, "start"), parse_instant(end, "end")
    if last <= first:
        raise ApiError(422, "invalid_range", "end must be after start (end is exclusive)")
    if last - first > MAX_RANGE:
        raise ApiError(
            422,
            "invalid_range",
            f"the range may span at most {MAX_RANGE.days} days",
            {"max_days": MAX_RANGE.days},
        )
    return first, last


def _attachment(fmt: str, start: datetime, end: datetime) -> dict[str, str]:
    """A Content-Disposition naming the download after its range."""
    name = f"divergence_{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.{fmt}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get(
    "/costsim/divergence-report",
    responses=responses(401, 403, 422, 429),
    summary="V2-vs-V1 cost divergence over [start, end): summary (json) or every pair",
)
def divergence_report(
    start: str = Query(description="ISO date or datetime (UTC when no offset)"),
    end: str = Query(description="exclusive; at most 93 days after start"),
    v1_version: str | None = None,
    v2_version: str | None = None,
    tenant: str | None = Query(None, description="admins only; default: the key's tenant"),
    fmt: ReportFormat = Query("json", alias="format"),
    principal: Principal = Depends(require("report:read")),
    svc: Services = Depends(services),
) -> Response:
    first, last = _range(start, end)
    tenant_id = tenant_for(principal, tenant)
    with svc.sandbox_engine.connect() as conn:
        rows = query_provenance(
            conn, tenant_id=tenant_id, start=first, end=last, v1_version=v1_version, v2_version=v2_version
        )
    rel_tol, abs_tol = _tolerances()
    summary = divergence_summary_for(rows, rel_tol, abs_tol)
    if fmt == "json":
        filters = {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "tenant": tenant_id,
            "v1_version": v1_version,
            "v2_version": v2_version,
        }
        return JSONResponse({"summary": summary, "filters": filters})
    frame, headers = pair_rows(rows, rel_tol, abs_tol), _attachment(fmt, first, last)
    if fmt == "parquet":
        return Response(parquet_bytes(frame, summary), media_type=MEDIA_TYPES[fmt], headers=headers)
    chunks = csv_chunks if fmt == "csv" else jsonl_chunks
    return StreamingResponse(chunks(frame, summary), media_type=MEDIA_TYPES[fmt], headers=headers)


def _forbidden() -> ApiError:
    """One body for every refused download, so a failure reveals nothing about why."""
    return ApiError(403, "forbidden", "the link is invalid or has expired")


def _signature_valid(svc: Services, name: str, expires: str, kid: str, sig: str) -> bool:
    """verify_url over GET, this route and this name; no configured keys means nothing verifies."""
    try:
        keys = parse_signing_keys(svc.settings.signing_keys)
    except ValueError:
        return False
    return verify_url(keys, "GET", report_file_route(name), name, expires, kid, sig)


@router.get(
    FILE_ROUTE + "/{name:path}",
    responses=responses(403, 404),
    response_class=FileResponse,
    summary="A report file written by the Dagster divergence_report asset (signed URL only)",
)
def report_file(
    name: str, expires: str = "", kid: str = "", sig: str = "", svc: Services = Depends(services)
) -> FileResponse:
    if "/" in name or "\\" in name or not _signature_valid(svc, name, expires, kid, sig):
        raise _forbidden()
    path = locate_report_file(Path(svc.settings.report_dir), name) if svc.settings.report_dir else None
    if path is None:
        raise ApiError(404, "not_found", "no such report file")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lstrip(".")], filename=name)
