"""The shapes the API answers with (clients/openapi.json is their source of truth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict

Plan = dict[str, Any]
HistoryRow = dict[str, Any]
Instant = date | datetime | str
HistoryFormat = Literal["csv", "jsonl"]
ReportFormat = Literal["csv", "jsonl", "parquet"]
OutcomeStatus = Literal["accepted", "duplicate", "conflict", "unknown_request", "too_late", "rejected"]


class SimulateResponse(TypedDict):
    request_id: str
    shadow: Literal["recorded", "off"]
    result: dict[str, Any]


class OutcomeStep(TypedDict):
    skill: str
    cost_cents: float
    status: Literal["ok", "error", "timeout", "skipped"]
    model: NotRequired[str | None]
    input_tokens: NotRequired[int | None]
    output_tokens: NotRequired[int | None]
    latency_ms: NotRequired[float | None]


class Outcome(TypedDict):
    request_id: str
    steps: list[OutcomeStep]


class OutcomeAnswer(TypedDict):
    request_id: str
    status: OutcomeStatus
    reason: str | None


class OutcomeBatchResult(TypedDict):
    results: list[OutcomeAnswer]
    counts: dict[str, int]


class Transition(TypedDict):
    at: str
    actor_type: str
    actor_id: str
    reason: str
    incident_id: str | None


class V2Status(TypedDict):
    sandbox_flag: bool
    routing_state: str
    v2_running: bool
    model_version: str
    last_transition: Transition


class HistoryFilters(TypedDict, total=False):
    entity_type: str
    entity_id: str
    status: str
    actor_type: str
    actor_id: str
    created_from: Instant
    created_to: Instant
    tenant: str


class ReportFilters(TypedDict, total=False):
    tenant: str
    v1_version: str
    v2_version: str


class HistoryPage(TypedDict):
    items: list[HistoryRow]
    next_cursor: str | None


class ExportCreated(TypedDict):
    export_id: str
    rows: int
    url: str
    expires_at: str


class DivergenceReport(TypedDict):
    summary: dict[str, Any]
    filters: dict[str, Any]


class Readiness(TypedDict):
    status: Literal["ok", "unavailable"]
    revision: NotRequired[str]
    reason: NotRequired[str]


@dataclass(frozen=True)
class Downloaded:
    """A file streamed to disk: where it is and how many bytes it holds."""

    path: Path
    bytes: int
