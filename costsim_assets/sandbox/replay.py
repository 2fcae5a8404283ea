"""Replaying real traffic through the sandbox for one day, with its real outcomes (idempotent).

Each day draws a seeded sample (with replacement) of the trace's requests, spreads them over the
day in arrival order, evaluates V1 (and V2 when routing allows, as the API does) in one vectorized
pass, and writes each request's provenance together with its outcome: the trace's real generated
tokens billed at list price for the request's model (no latency: the trace has none). Ids are
deterministic, so a rerun of the same day adds nothing. Named shifts (`ReplayShift`) change the
prompts, the output lengths or the prices of a day, for the canary to detect.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from costsim_assets.reference_data.build import finish_historical
from costsim_assets.reference_data.historical import (
    HistoricalSourceError,
    anonymize,
    historical_records,
    parse_trace,
)
from costsim_assets.sandbox.evaluation import Evaluated, V2Evaluator, evaluate_v1_plans
from costsim_assets.sandbox.outcomes import LLM_SKILL, StepOutcome, outcome_rows
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.store.outcomes import insert_outcomes
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.tables import V2_SKIPPED, provenance
from costsim_assets.version import code_version

REPLAY_NAMESPACE = uuid.UUID("5f0c1d1e-6a55-4b53-9f5c-2f2d8e0b6a11")
CHUNK = 2000
TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
REQUEST_COLUMNS = ["plan_json", "tenant_id", "generated_tokens"]


@dataclass(frozen=True)
class ReplayShift:
    """A named change to a replayed day; 1.0 everywhere is the trace as it was."""

    prompt_scale: float = 1.0  # prompt tokens x s, in plans and outcomes alike: a traffic-mix shift
    output_scale: float = 1.0  # generated tokens x s, in outcomes only: output lengths alone grow
    price_scale: float = 1.0  # billed = list price x s: a provider's price change


def trace_requests(data: bytes, salt: str, prices: PriceTable) -> pd.DataFrame:
    """A trace in the Azure format as replayable requests, anonymized like the historical dataset."""
    try:
        trace = parse_trace(data)
        missing = [c for c in TRACE_COLUMNS if c not in trace.columns]
        if missing:
            raise HistoricalSourceError(f"the trace lacks the Azure-format column(s) {', '.join(missing)}")
        records = finish_historical(historical_records(anonymize(trace, salt), prices))
    except ValueError as error:  # unparsable CSV, timestamps or token counts
        raise HistoricalSourceError(f"not a trace in the Azure format: {error}") from error
    if (records[["context_tokens", "generated_tokens"]] < 0).any(axis=None):
        raise HistoricalSourceError("not a trace in the Azure format: negative token counts")
    return records[REQUEST_COLUMNS]


def day_seed(day: date, salt: str = "") -> int:
    """A seed derived from the day (and an optional salt for A/A runs): reruns match."""
    return int.from_bytes(hashlib.sha256(f"{day.isoformat()}|{salt}".encode()).digest()[:8], "big")


def scale_prompts(plan_json: str, factor: float) -> str:
    """The same plan with every step's prompt_tokens multiplied (a traffic-mix shift)."""
    plan = json.loads(plan_json)
    for step in plan.get("steps", []):
        params = step.get("params", {})
        if "prompt_tokens" in params:
            params["prompt_tokens"] = int(params["prompt_tokens"] * factor)
    return json.dumps(plan, sort_keys=True, separators=(",", ":"))


def day_sample(
    requests: pd.DataFrame, day: date, size: int, salt: str = "", prompt_scale: float = 1.0
) -> pd.DataFrame:
    """`size` requests drawn with replacement, stamped across the day in arrival order."""
    rng = np.random.default_rng(day_seed(day, salt))
    sample = requests.iloc[rng.integers(0, len(requests), size)].reset_index(drop=True)
    if prompt_scale != 1.0:
        sample["plan_json"] = [scale_prompts(text, prompt_scale) for text in sample["plan_json"]]
    offsets = np.sort(rng.uniform(0, 86_400, size))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    sample["created_at"] = [start + timedelta(seconds=float(s)) for s in offsets]
    return sample


def llm_outcome(
    plan: Plan, generated_tokens: int, shift: ReplayShift, prices: PriceTable
) -> tuple[StepOutcome, ...]:
    """A trace request's real outcome: its generated tokens (x output_scale) billed at list price."""
    if len(plan.steps) != 1 or plan.steps[0].skill != LLM_SKILL:
        raise ValueError(f"a trace request is one {LLM_SKILL} step; got {[s.skill for s in plan.steps]}")
    params = plan.steps[0].params
    model = params.get("model", prices.default_model)
    price_in, price_out = prices.cents_per_token(model)
    input_tokens = int(params["prompt_tokens"])
    output_tokens = round(generated_tokens * shift.output_scale)
    billed = (input_tokens * price_in + output_tokens * price_out) * shift.price_scale
    return (StepOutcome(LLM_SKILL, billed, "ok", model, input_tokens, output_tokens),)


def _v2_columns(result: Evaluated | None, runtime_ms: float) -> dict:
    if result is None:
        return {"v2_status": V2_SKIPPED}
    return {
        "v2_status": "ok",
        "v2_version": result.version,
        "v2_output_hash": result.output_hash,
        "v2_output_z": compress(result.document),
        "v2_cost_cents": result.cost_cents,
        "v2_runtime_ms": runtime_ms,
    }


def _provenance_rows(
    sample: pd.DataFrame,
    plans: list[Plan],
    v1: list[Evaluated],
    v2: list[Evaluated] | None,
    runtimes: tuple[float, float],
    day: date,
) -> list[dict]:
    rows = []
    for i, a in enumerate(v1):
        request_id = f"replay-{day.isoformat()}-{i:07d}"
        rows.append(
            {
                "id": str(uuid.uuid5(REPLAY_NAMESPACE, request_id)),
                "created_at": sample["created_at"].iat[i],
                "tenant_id": plans[i].tenant_id,
                "request_id": request_id,
                "input_hash": a.input_hash,
                "plan_z": compress(sample["plan_json"].iat[i]),
                "code_version": code_version(),
                "v1_version": a.version,
                "v1_output_hash": a.output_hash,
                "v1_output_z": compress(a.document),
                "v1_cost_cents": a.cost_cents,
                "v1_runtime_ms": runtimes[0],
                **_v2_columns(None if v2 is None else v2[i], runtimes[1]),
            }
        )
    return rows


def _outcome_rows(rows: list[dict], outcomes: list[tuple[StepOutcome, ...]]) -> tuple[list[dict], list[dict]]:
    """Outcome rows for the provenance rows; each 'arrives' when its request was made (reruns match)."""
    requests, steps = [], []
    for row, outcome in zip(rows, outcomes, strict=True):
        request, step_rows = outcome_rows(
            row["id"],
            row["tenant_id"],
            row["request_id"],
            outcome,
            received_at=row["created_at"],
            source="replay",
        )
        requests.append(request)
        steps.extend(step_rows)
    return requests, steps


def _existing_ids(engine: sa.Engine, day: date) -> set[str]:
    with engine.connect() as conn:
        query = sa.select(provenance.c.id).where(provenance.c.request_id.like(f"replay-{day.isoformat()}-%"))
        return set(conn.execute(query).scalars())


def replay_day(
    engine: sa.Engine,
    requests: pd.DataFrame,
    day: date,
    size: int,
    v2: V2Evaluator | None,
    prices: PriceTable,
    salt: str = "",
    shift: ReplayShift = ReplayShift(),
) -> int:
    """Write the day's provenance and outcomes through the sandbox engine; returns requests added.

    `v2` None: routing does not allow V2, so only V1's half is written (`v2_status` skipped). Each
    request's provenance and outcome are written in the same transaction.
    """
    sample = day_sample(requests, day, size, salt, shift.prompt_scale)
    plans = [validate_plan(text) for text in sample["plan_json"]]
    started = time.perf_counter()
    v1 = evaluate_v1_plans(plans)
    middle = time.perf_counter()
    v2_results = None if v2 is None else v2(plans)
    runtimes = ((middle - started) * 1000 / size, (time.perf_counter() - middle) * 1000 / size)
    outcomes = [
        llm_outcome(plan, int(tokens), shift, prices)
        for plan, tokens in zip(plans, sample["generated_tokens"], strict=True)
    ]
    existing = _existing_ids(engine, day)
    new = [
        (row, outcome)
        for row, outcome in zip(
            _provenance_rows(sample, plans, v1, v2_results, runtimes, day), outcomes, strict=True
        )
        if row["id"] not in existing
    ]
    for start in range(0, len(new), CHUNK):
        rows, chunk_outcomes = zip(*new[start : start + CHUNK], strict=True)
        with engine.begin() as conn:
            insert_provenance(conn, rows)
            insert_outcomes(conn, *_outcome_rows(list(rows), list(chunk_outcomes)), tenant_id=None)
    return len(new)
