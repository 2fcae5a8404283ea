"""Stratified, seeded sampling: each tenant keeps its share of the day (largest remainder)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def partition_seed(partition_key: str) -> int:
    """Seed from the partition key, so a rerun of the same day draws the same sample."""
    return int.from_bytes(hashlib.sha256(partition_key.encode()).digest()[:8], "big")


def stratum_sizes(counts: pd.Series, size: int) -> pd.Series:
    """Proportional allocation of `size` over strata, rounded by largest remainder."""
    exact = counts / counts.sum() * size
    sizes = np.floor(exact).astype(int)
    short = size - int(sizes.sum())
    order = (exact - sizes).sort_values(ascending=False, kind="stable").index[:short]
    sizes[order] += 1
    return sizes


def stratified_sample(frame: pd.DataFrame, size: int, seed: int, stratum: str = "tenant_id") -> pd.DataFrame:
    """`size` rows (all rows when fewer), each stratum in proportion; deterministic for a seed."""
    if len(frame) <= size:
        return frame.reset_index(drop=True)
    frame = frame.sort_values(["created_at", "id"], kind="stable")
    rng = np.random.default_rng(seed)
    sizes = stratum_sizes(frame[stratum].value_counts().sort_index(), size)
    parts = [
        group.iloc[np.sort(rng.choice(len(group), sizes[name], replace=False))]
        for name, group in frame.groupby(stratum, sort=True)
    ]
    return pd.concat(parts).sort_values(["created_at", "id"], kind="stable").reset_index(drop=True)
