"""Canonical input and output hashes, computed over fixed binary layouts of whole batches.

Input hash: the normalized plan, i.e. every field that can change an output (tenant, since V2's
output-token segments depend on it; budget, risk threshold, allowed skills, each step's skill name,
model and numeric features) and nothing that cannot (prompt text beyond its length). Output hash:
the deterministic outputs only (never timings), including V2's per-step output-token distribution,
rounded to 1e-9 so it is stable across processes and BLAS builds.

The digest is BLAKE2b-256 (64 hex characters): as collision-resistant as SHA-256 and, per small
record, about 2.5x cheaper to call from Python here, which matters at three hashes per plan.
"""

from __future__ import annotations

import hashlib
from functools import partial
from operator import methodcaller

import numpy as np

from costsim_assets.simulator.batch import FEATURES, PlanBatch
from costsim_assets.simulator.output import INTERVAL_FIELDS, TOKEN_FIELDS, SimulationOutput

INPUT_SCHEMA = b"costsim-input/2"
OUTPUT_SCHEMA = b"costsim-output/2"
DECIMALS = 9
_NO_NAME = b"\0" * 16


def name_digest(text: str) -> bytes:
    """16-byte digest of a name: fixed width, so names fit a binary record."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _digests(names: tuple[str, ...], ids: np.ndarray) -> np.ndarray:
    table = np.array([name_digest(n) for n in names] + [_NO_NAME], dtype="V16")
    return table[np.where(ids < 0, len(names), ids)]


def _canonical(values: np.ndarray) -> np.ndarray:
    """Round, fold -0.0 into 0.0 and give every NaN one bit pattern."""
    rounded = np.round(np.asarray(values, dtype=np.float64), DECIMALS) + 0.0
    return np.where(np.isnan(rounded), np.nan, rounded)


def _records(columns: dict[str, np.ndarray]) -> np.ndarray:
    dtype = np.dtype([(name, "V16" if col.dtype.kind == "V" else "<f8") for name, col in columns.items()])
    first = next(iter(columns.values()))
    records = np.zeros(len(first), dtype=dtype)
    for name, col in columns.items():
        records[name] = col if col.dtype.kind == "V" else _canonical(col)
    return records.view(np.uint8).reshape(len(first), dtype.itemsize)


_BLAKE2B_256 = partial(hashlib.blake2b, digest_size=32)
_HEX = methodcaller("hexdigest")


def _segment_hashes(prefix: bytes, plans: np.ndarray, steps: np.ndarray, offsets: np.ndarray) -> list[str]:
    """blake2b-256(prefix | plan record | its step records) per plan, grouped by step count."""
    counts = np.diff(offsets)
    result: list[str] = [""] * len(counts)
    head = np.frombuffer(prefix, dtype=np.uint8)
    for count in np.unique(counts):
        members = np.flatnonzero(counts == count)
        index = offsets[members][:, None] + np.arange(count)
        rows = np.hstack(
            [
                np.broadcast_to(head, (len(members), len(head))),
                plans[members],
                steps[index].reshape(len(members), -1),
            ]
        )
        records = rows.view(f"V{rows.shape[1]}").ravel().tolist()
        digests = list(map(_HEX, map(_BLAKE2B_256, records)))  # C-level loop: no Python frame per plan
        if len(members) == len(counts):
            return digests
        for plan, digest in zip(members.tolist(), digests, strict=False):
            result[plan] = digest
    return result


def input_hashes(batch: PlanBatch) -> list[str]:
    """Hex BLAKE2b-256 of each plan's normalized content (tenant included)."""
    allowed = _digests(tuple("\x1f".join(s) for s in batch.allowed_sets), batch.allowed_key)
    plans = _records(
        {
            "tenant": _digests(batch.tenant_names, batch.plan_tenant_id),
            "budget": batch.budget_cents,
            "risk": batch.risk_threshold,
            "allowed": allowed,
            "n_steps": batch.n_steps.astype(np.float64),
        }
    )
    steps = _records(
        {
            "skill": _digests(batch.skill_names, batch.step_skill_id),
            "model": _digests(batch.model_names, batch.step_model_id),
            **{name: batch.feature(name) for name in FEATURES},
        }
    )
    return _segment_hashes(INPUT_SCHEMA, plans, steps, batch.step_offsets)


def _distribution_columns(output: SimulationOutput) -> dict[str, np.ndarray]:
    """V2's per-step output-token distribution and coverage; nothing for a version without one
    (V1), whose records then stay as short as before: the version digest tells the layouts apart."""
    if output.steps is None:
        return {}
    tokens = {f"tokens_{name}": output.steps.output_tokens[name] for name in TOKEN_FIELDS}
    return {**tokens, "coverage": output.steps.calibration["coverage"]}


def output_hashes(output: SimulationOutput) -> list[str]:
    """Hex BLAKE2b-256 of each plan's deterministic output under this model version."""
    n_plans = len(output.status)
    version = np.full(n_plans, name_digest(output.version), dtype="V16")
    intervals = {name: output.intervals.get(name, np.full(n_plans, np.nan)) for name in INTERVAL_FIELDS}
    plans = _records(
        {
            "version": version,
            "status": output.status.astype(np.float64),
            "cost": output.cost_cents,
            "duration": output.duration_ms,
            "remaining": output.budget_remaining_cents,
            "risk": output.cumulative_risk,
            **intervals,
        }
    )
    steps = _records(
        {
            "cost": output.step_cost_cents,
            "latency": output.step_latency_ms,
            "p": output.step_failure_p,
            **_distribution_columns(output),
        }
    )
    return _segment_hashes(OUTPUT_SCHEMA, plans, steps, output.step_offsets)
