"""Latent task types: where the execution model's output lengths come from.

Output lengths are resampled from REAL generated-token counts, taken only from the trace's held-out
window (the later 30 % by time, which V2 never fits on). Each LLM call of a synthetic plan has a
latent task type that V2 cannot see in its inputs:

| task type    | rows of the held-out window (ranked by generated tokens, ties in time order) |
|--------------|-------------------------------------------------------------------------------|
| `completion` | the shortest third (short completions and edits)                               |
| `function`   | the middle third                                                               |
| `generation` | the longest third (long generations, the heavy tail up to ~1,900 tokens)       |

Each dataset has its own task mix (`DATASET_TASK_MIX`, per city in mixed_city), which may differ
from the trace's marginal (1/3 each): `high_variance`, "LLM-heavy and long plans", leans to long
generations. When V2 then misjudges a dataset, its verdict says so; that is the point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costsim_assets.reference_data.historical import train_rows

TASK_TYPES = ("completion", "function", "generation")
TRACE_MIX = (1 / 3, 1 / 3, 1 / 3)
DATASET_TASK_MIX: dict[str, tuple[float, float, float]] = {
    "low_variance": TRACE_MIX,  # no LLM calls; listed for completeness
    "high_variance": (0.2, 0.3, 0.5),
    "noise_injected": TRACE_MIX,
}
CITY_TASK_MIX: dict[str, tuple[float, float, float]] = {
    "lisbon": (0.5, 0.3, 0.2),
    "virginia": TRACE_MIX,
    "singapore": (0.2, 0.3, 0.5),
    "sao-paulo": (0.3, 0.4, 0.3),
    "mumbai": (0.15, 0.25, 0.6),
}


@dataclass(frozen=True)
class OutputLengthPool:
    """Real generated-token counts of the held-out window, split into the task types."""

    by_type: tuple[np.ndarray, ...]
    source_sha256: str

    def describe(self) -> dict:
        """Rows and median/p90 per task type, for manifests and data cards."""
        return {
            "source_sha256": self.source_sha256,
            "window": "held-out (later 30 % by time) of the trace",
            "task_types": {
                name: {
                    "rows": int(len(tokens)),
                    "median": float(np.median(tokens)),
                    "p90": float(np.percentile(tokens, 90)),
                }
                for name, tokens in zip(TASK_TYPES, self.by_type, strict=True)
            },
        }


def output_length_pool(trace: pd.DataFrame, source_sha256: str) -> OutputLengthPool:
    """The held-out window's generated tokens, ranked (stable) and cut into equal thirds."""
    held_out = trace["GeneratedTokens"].to_numpy(np.float64)[train_rows(len(trace)) :]
    ranked = held_out[np.argsort(held_out, kind="stable")]
    return OutputLengthPool(tuple(np.array_split(ranked, len(TASK_TYPES))), source_sha256)


def draw_task_types(mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One task type index per row, row i drawn from the mix in row i of `mix` (shape n x 3)."""
    cumulative = np.cumsum(mix, axis=1)
    return (rng.random(len(mix))[:, None] > cumulative[:, :-1]).sum(axis=1)


def draw_output_tokens(pool: OutputLengthPool, task_type: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real generated-token count per row, resampled (with replacement) from its task type."""
    tokens = np.zeros(len(task_type))
    for index, values in enumerate(pool.by_type):
        rows = np.flatnonzero(task_type == index)
        tokens[rows] = values[rng.integers(0, len(values), len(rows))]
    return tokens
