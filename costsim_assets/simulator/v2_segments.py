"""V2's output-token segments: (tenant, model, prompt-length bin) -> (model, bin) -> (bin) -> all.

A request uses the finest level whose segment the artifact holds; the fit keeps a segment only
when it has enough fit and calibration rows, so small segments pool into their parent. The same
key function serves the fit (pandas side) and the lookup (vectorized here), so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

PROMPT_BIN_EDGES = (0.0, 256.0, 1024.0, 4096.0)
"""Lower edges of the prompt-length bins in input tokens (x4 apart; the last bin is open-ended).
Coarse on purpose: on the code trace prompt length carries almost no signal about output length,
and each bin must hold enough rows to calibrate its own interval."""
LEVELS = ("tenant_model_bin", "model_bin", "bin", "all")
ALL_KEY = "all"


def prompt_bin(input_tokens: np.ndarray) -> np.ndarray:
    """Bin index of each prompt length (NaN or negative lengths land in bin 0)."""
    tokens = np.nan_to_num(np.asarray(input_tokens, dtype=np.float64), nan=0.0)
    return np.clip(np.searchsorted(PROMPT_BIN_EDGES, tokens, side="right") - 1, 0, len(PROMPT_BIN_EDGES) - 1)


def segment_key(level: str, tenant: str | None, model: str, bin_index: int) -> str:
    """The artifact key of one segment at one level."""
    if level == "tenant_model_bin":
        return f"tenant={tenant}|model={model}|bin={bin_index}"
    if level == "model_bin":
        return f"model={model}|bin={bin_index}"
    if level == "bin":
        return f"bin={bin_index}"
    return ALL_KEY


def candidate_keys(tenant: str | None, model: str, bin_index: int) -> tuple[str, ...]:
    """Keys to try for a request, finest first; requests without a tenant skip the tenant level."""
    levels = LEVELS if tenant else LEVELS[1:]
    return tuple(segment_key(level, tenant, model, bin_index) for level in levels)


def first_present(keys: Sequence[str], index: Mapping[str, int]) -> int:
    """Index of the first key the table holds; -1 if none (a table always holds 'all')."""
    return next((index[key] for key in keys if key in index), -1)


def lookup_segments(
    index: Mapping[str, int],
    tenant_names: Sequence[str],
    tenant_ids: np.ndarray,
    model_names: Sequence[str],
    model_ids: np.ndarray,
    bins: np.ndarray,
) -> np.ndarray:
    """Segment index per row; one dictionary walk per distinct (tenant, model, bin), not per row."""
    if len(bins) == 0:
        return np.zeros(0, dtype=np.int64)
    n_bins, n_models = len(PROMPT_BIN_EDGES), len(model_names)
    # one int64 per row (tenant -1 -> 0): a 1-D unique sorts far faster than a row-wise one
    codes = ((np.asarray(tenant_ids) + 1) * n_models + np.asarray(model_ids)) * n_bins + np.asarray(bins)
    combos, inverse = np.unique(codes, return_inverse=True)
    resolved = np.array(
        [_resolve(int(code), index, tenant_names, model_names) for code in combos], dtype=np.int64
    )
    return resolved[inverse.ravel()]


def _resolve(
    code: int, index: Mapping[str, int], tenant_names: Sequence[str], model_names: Sequence[str]
) -> int:
    """The segment of one (tenant, model, bin) combination encoded as by lookup_segments."""
    rest, bin_index = divmod(code, len(PROMPT_BIN_EDGES))
    tenant, model = divmod(rest, len(model_names))
    keys = candidate_keys(tenant_names[tenant - 1] if tenant > 0 else None, model_names[model], bin_index)
    return first_present(keys, index)
