"""Shadow execution of V2 beside V1, with durable, batched provenance.

Request path: the API evaluates V1, submits the provenance row and waits only for its group
commit (many requests share one transaction), so an acknowledged evaluation survives a crash.
V2 runs afterwards on a worker thread over micro-batches (vectorized) and fills in V2's half of
the rows; its errors and slowness never reach the caller. Rows left 'pending' by a crash are
re-evaluated by `recover_pending()` at start-up.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from costsim_assets.sandbox.evaluation import Evaluated
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.store.provenance import complete_v2, compress, decompress, insert_provenance, pending_rows

LOG = logging.getLogger(__name__)
V2Function = Callable[[Sequence[Plan]], list[Evaluated]]


@dataclass
class ShadowItem:
    """One sandboxed evaluation: its provenance row and, if V2 should run, the plan."""

    row: dict[str, Any]
    plan: Plan | None
    committed: Future = field(default_factory=Future)


class ShadowRecorder:
    """Group-commits provenance rows and runs V2 for them off the request path."""

    def __init__(
        self,
        engine: sa.Engine,
        v2: V2Function,
        *,
        time_budget_ms: float = 250.0,
        max_batch: int = 1024,
        v2_linger_s: float = 0.5,
    ) -> None:
        self.engine, self.v2 = engine, v2
        self.time_budget_ms, self.max_batch, self.v2_linger_s = time_budget_ms, max_batch, v2_linger_s
        self._writes: queue.Queue[ShadowItem | None] = queue.Queue()
        self._v2_jobs: queue.Queue[list[tuple[str, Plan]] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._write_loop, name="provenance-writer", daemon=True),
            threading.Thread(target=self._v2_loop, name="v2-shadow", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, row: dict[str, Any], plan: Plan | None) -> Future:
        """Queue a provenance row; the future resolves once it is committed."""
        item = ShadowItem(row, plan)
        self._writes.put(item)
        return item.committed

    def close(self, timeout: float = 10.0) -> None:
        """Flush pending writes and V2 jobs, then stop both threads."""
        self._writes.put(None)
        self._threads[0].join(timeout)
        self._v2_jobs.put(None)
        self._threads[1].join(timeout)

    def recover_pending(self) -> int:
        """Queue V2 for rows a previous process committed but never completed."""
        with self.engine.connect() as conn:
            rows = pending_rows(conn, limit=100_000)
        jobs = [
            (r["id"], plan) for r in rows if isinstance(plan := validate_plan(decompress(r["plan_z"])), Plan)
        ]
        for start in range(0, len(jobs), self.max_batch):
            self._v2_jobs.put(jobs[start : start + self.max_batch])
        return len(jobs)

    def _drain(self, first: ShadowItem) -> tuple[list[ShadowItem], bool]:
        """Everything queued while the previous commit ran joins this one (group commit, no idling)."""
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                item = self._writes.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _write_loop(self) -> None:
        while (first := self._writes.get()) is not None:
            batch, stop = self._drain(first)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[ShadowItem]) -> None:
        try:
            with self.engine.begin() as conn:
                insert_provenance(conn, [item.row for item in batch])
        except Exception as error:  # the caller sees the failure; nothing half-written
            LOG.exception("provenance batch of %d failed", len(batch))
            for item in batch:
                item.committed.set_exception(error)
            return
        for item in batch:
            item.committed.set_result(item.row["id"])
        jobs = [(item.row["id"], item.plan) for item in batch if item.plan is not None]
        if jobs:
            self._v2_jobs.put(jobs)

    def _gather_v2(self, jobs: list[tuple[str, Plan]]) -> tuple[list[tuple[str, Plan]], bool]:
        """Linger briefly so V2 runs vectorized on a bigger batch and writes less often."""
        deadline = time.monotonic() + self.v2_linger_s
        while len(jobs) < self.max_batch:
            try:
                more = self._v2_jobs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if more is None:
                return jobs, True
            jobs = jobs + more
        return jobs, False

    def _v2_loop(self) -> None:
        while (first := self._v2_jobs.get()) is not None:
            jobs, stop = self._gather_v2(first)
            self._complete(jobs, self._run_v2(jobs))
            if stop:
                return

    def _run_v2(self, jobs: list[tuple[str, Plan]]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            results = self.v2([plan for _, plan in jobs])
        except Exception as error:  # V2 failing is data for the canary, never the caller's problem
            elapsed = (time.perf_counter() - started) * 1000
            return [
                {
                    "id": row_id,
                    "v2_status": "error",
                    "v2_error": f"{type(error).__name__}: {error}",
                    "v2_runtime_ms": elapsed / len(jobs),
                }
                for row_id, _ in jobs
            ]
        elapsed = (time.perf_counter() - started) * 1000
        if elapsed > self.time_budget_ms:
            return [
                {
                    "id": row_id,
                    "v2_status": "timeout",
                    "v2_runtime_ms": elapsed / len(jobs),
                    "v2_error": f"V2 took {elapsed:.0f} ms for {len(jobs)} plans; budget "
                    f"{self.time_budget_ms:.0f} ms",
                }
                for row_id, _ in jobs
            ]
        return [
            {
                "id": row_id,
                "v2_status": "ok",
                "v2_version": r.version,
                "v2_output_hash": r.output_hash,
                "v2_output_z": compress(r.document),
                "v2_cost_cents": r.cost_cents,
                "v2_runtime_ms": elapsed / len(jobs),
            }
            for (row_id, _), r in zip(jobs, results, strict=False)
        ]

    def _complete(self, jobs: list[tuple[str, Plan]], results: list[dict[str, Any]]) -> None:
        try:
            with self.engine.begin() as conn:
                complete_v2(conn, results)
        except Exception:  # rows stay 'pending' and are recovered on the next start
            LOG.exception("could not record V2 results for %d rows", len(jobs))
