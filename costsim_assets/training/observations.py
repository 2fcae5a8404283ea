"""Observations V2 is fitted on: one row per LLM call that really happened.

Columns: ts, tenant_id (None when unknown), model, input_tokens, output_tokens, latency_ms (NaN when
not measured). The bootstrap champion comes from the Azure trace (no tenant, no latency); a
challenger comes from realized outcomes (tenants, and latency once outcomes carry it).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

OBSERVATION_COLUMNS = ("ts", "tenant_id", "model", "input_tokens", "output_tokens", "latency_ms")


class ObservationError(ValueError):
    """The observations cannot be fitted on (missing columns, bad values, too few rows)."""


def _tenants(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna() & (values.astype(str) != ""), None)


def prepare_observations(frame: pd.DataFrame) -> pd.DataFrame:
    """Checked, typed and sorted by time (stable: equal times keep their order)."""
    missing = [column for column in OBSERVATION_COLUMNS if column not in frame]
    if missing:
        raise ObservationError(f"observations lack column(s) {missing}; expected {list(OBSERVATION_COLUMNS)}")
    prepared = pd.DataFrame(
        {
            "ts": pd.to_datetime(frame["ts"], utc=True),
            "tenant_id": _tenants(frame["tenant_id"]),
            "model": frame["model"].astype(str),
            "input_tokens": pd.to_numeric(frame["input_tokens"], errors="coerce").astype(np.float64),
            "output_tokens": pd.to_numeric(frame["output_tokens"], errors="coerce").astype(np.float64),
            "latency_ms": pd.to_numeric(frame["latency_ms"], errors="coerce").astype(np.float64),
        }
    )
    tokens = prepared[["input_tokens", "output_tokens"]].to_numpy()
    bad = int((~np.isfinite(tokens) | (tokens < 0)).any(axis=1).sum())
    if bad:
        raise ObservationError(f"{bad} observations have missing or negative token counts")
    return prepared.sort_values("ts", kind="mergesort").reset_index(drop=True)


def time_windows(frame: pd.DataFrame, later_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(earlier, later) rows of a time-sorted frame; the later window holds `later_share` of them."""
    cut = len(frame) - int(round(len(frame) * later_share))
    return frame.iloc[:cut], frame.iloc[cut:]


def window_summary(frame: pd.DataFrame) -> dict:
    """Rows and time range of a window, for the artifact's record of what it was fitted on."""
    if frame.empty:
        return {"rows": 0, "first_ts": None, "last_ts": None}
    return {
        "rows": int(len(frame)),
        "first_ts": frame["ts"].iloc[0].isoformat(),
        "last_ts": frame["ts"].iloc[-1].isoformat(),
    }


def observations_sha256(frame: pd.DataFrame) -> str:
    """Hash of the observations' content (CSV, fixed float format): the training-data hash."""
    canonical = frame[list(OBSERVATION_COLUMNS)].assign(ts=frame["ts"].map(pd.Timestamp.isoformat))
    text = canonical.to_csv(index=False, lineterminator="\n", float_format="%.9g")
    return hashlib.sha256(text.encode()).hexdigest()


def trace_observations(trace: pd.DataFrame, model: str) -> pd.DataFrame:
    """Observations from an Azure-format trace (TIMESTAMP, ContextTokens, GeneratedTokens).

    The trace names no tenant and no latency: tenant_id is None and latency_ms NaN, so a fit on it
    has no tenant-level segments and keeps the latency prior.
    """
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(trace["TIMESTAMP"], utc=True),
            "tenant_id": None,
            "model": model,
            "input_tokens": trace["ContextTokens"].astype(np.float64),
            "output_tokens": trace["GeneratedTokens"].astype(np.float64),
            "latency_ms": np.nan,
        }
    )


def historical_observations(records: pd.DataFrame, model: str) -> pd.DataFrame:
    """Observations from the historical dataset's records, in their (time) order.

    Its timestamps are coarsened to the hour by anonymization; the stable sort in
    `prepare_observations` keeps the records' own order, which is the trace's time order.
    """
    return pd.DataFrame(
        {
            "ts": records["ts"],
            "tenant_id": records["tenant_id"],
            "model": model,
            "input_tokens": records["context_tokens"].astype(np.float64),
            "output_tokens": records["generated_tokens"].astype(np.float64),
            "latency_ms": np.nan,
        }
    )
