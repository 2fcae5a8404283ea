"""Replaying historical traffic through the sandbox for one day (idempotent per day).

Each day draws a seeded sample (with replacement) of the historical requests, spreads them over
the day by their real relative arrival times, evaluates V1 and V2 in one vectorized pass and
writes provenance rows with deterministic ids, so a rerun of the same day adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from costsim_assets.sandbox.evaluation import Evaluated, V2Evaluator, evaluate_v1_plans
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.tables import provenance
from costsim_assets.version import code_version

REPLAY_NAMESPACE = uuid.UUID("5f0c1d1e-6a55-4b53-9f5c-2f2d8e0b6a11")
CHUNK = 2000


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


def _rows(
    sample: pd.DataFrame,
    plans: Sequence[Plan],
    v1: list[Evaluated],
    v2: list[Evaluated],
    runtimes: tuple[float, float],
    day: date,
) -> list[dict]:
    rows = []
    for i, (plan, a, b) in enumerate(zip(plans, v1, v2, strict=False)):
        request_id = f"replay-{day.isoformat()}-{i:07d}"
        rows.append(
            {
                "id": str(uuid.uuid5(REPLAY_NAMESPACE, request_id)),
                "created_at": sample["created_at"].iat[i],
                "tenant_id": plan.tenant_id,
                "request_id": request_id,
                "input_hash": a.input_hash,
                "plan_z": compress(sample["plan_json"].iat[i]),
                "code_version": code_version(),
                "v1_version": a.version,
                "v1_output_hash": a.output_hash,
                "v1_output_z": compress(a.document),
                "v1_cost_cents": a.cost_cents,
                "v1_runtime_ms": runtimes[0],
                "v2_status": "ok",
                "v2_version": b.version,
                "v2_output_hash": b.output_hash,
                "v2_output_z": compress(b.document),
                "v2_cost_cents": b.cost_cents,
                "v2_runtime_ms": runtimes[1],
            }
        )
    return rows


def _existing_ids(engine: sa.Engine, day: date) -> set[str]:
    with engine.connect() as conn:
        query = sa.select(provenance.c.id).where(provenance.c.request_id.like(f"replay-{day.isoformat()}-%"))
        return set(conn.execute(query).scalars())


def replay_day(
    engine: sa.Engine,
    requests: pd.DataFrame,
    day: date,
    size: int,
    v2: V2Evaluator,
    salt: str = "",
    prompt_scale: float = 1.0,
) -> int:
    """Write the day's replayed provenance through the sandbox engine; returns rows added."""
    sample = day_sample(requests, day, size, salt, prompt_scale)
    plans = [validate_plan(text) for text in sample["plan_json"]]
    started = time.perf_counter()
    v1 = evaluate_v1_plans(plans)
    middle = time.perf_counter()
    v2_results = v2(plans)
    runtimes = ((middle - started) * 1000 / size, (time.perf_counter() - middle) * 1000 / size)
    existing = _existing_ids(engine, day)
    rows = [r for r in _rows(sample, plans, v1, v2_results, runtimes, day) if r["id"] not in existing]
    for start in range(0, len(rows), CHUNK):
        with engine.begin() as conn:
            insert_provenance(conn, rows[start : start + CHUNK])
    return len(rows)
