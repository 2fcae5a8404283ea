"""Every API operation as a Call (method, route, parameters): one place for the routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from costsim_client._core import Call, history_params, report_params
from costsim_client.types import (
    DivergenceReport,
    ExportCreated,
    HistoryFilters,
    HistoryPage,
    Instant,
    Outcome,
    OutcomeBatchResult,
    Plan,
    Readiness,
    SimulateResponse,
    V2Status,
)

HEALTH: Call[dict[str, str]] = Call("GET", "/healthz", auth=False)
READY: Call[Readiness] = Call("GET", "/readyz", auth=False, ok=(503,))
V2_STATUS: Call[V2Status] = Call("GET", "/costsim/v2/status")


def simulate(plan: Plan) -> Call[SimulateResponse]:
    return Call("POST", "/costsim/simulate", json=plan)


def outcomes(batch: Sequence[Outcome]) -> Call[OutcomeBatchResult]:
    return Call("POST", "/costsim/outcomes", json={"outcomes": list(batch)})


def v2_switch(action: Literal["enable", "disable"], reason: str) -> Call[V2Status]:
    return Call("POST", f"/costsim/v2/{action}", json={"reason": reason})


def history_page(filters: HistoryFilters, limit: int, cursor: str | None) -> Call[HistoryPage]:
    return Call("GET", "/status-history", params=history_params(filters, limit=limit, cursor=cursor))


def history_stream(filters: HistoryFilters, fmt: str) -> Call[bytes]:
    return Call("GET", "/status-history", params=history_params(filters, format=fmt))


def create_export(filters: HistoryFilters, fmt: str) -> Call[ExportCreated]:
    return Call("POST", "/status-history/exports", json=history_params(filters, format=fmt))


def divergence_summary(start: Instant, end: Instant, **filters: str | None) -> Call[DivergenceReport]:
    return Call("GET", "/costsim/divergence-report", params=report_params(start, end, "json", **filters))


def divergence_pairs(start: Instant, end: Instant, fmt: str, **filters: str | None) -> Call[bytes]:
    return Call("GET", "/costsim/divergence-report", params=report_params(start, end, fmt, **filters))


def signed_link(url: str) -> Call[bytes]:
    """A signed export or report link (relative to the base URL, or absolute)."""
    return Call("GET", url, auth=False)
