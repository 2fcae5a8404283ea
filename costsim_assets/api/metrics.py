"""Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from costsim_assets.api.services import Services, services
from costsim_assets.observability.metrics import render_metrics

router = APIRouter(tags=["observability"])


@router.get(
    "/metrics",
    summary="Prometheus metrics, read from the store at scrape time",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "text exposition format"}},
)
def metrics(svc: Services = Depends(services)) -> Response:
    """No API key: Prometheus scrapes this. It exposes no tenant data, only service-wide aggregates
    (evaluation counts, canary statistics, the routing flag)."""
    return Response(render_metrics(svc.engine, svc.sandbox_engine), media_type=CONTENT_TYPE_LATEST)
