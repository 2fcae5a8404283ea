"""The historical dataset: the real Azure LLM inference trace, anonymized into golden data.

Source: Azure Public Dataset, AzureLLMInferenceTrace_code.csv (Patel et al., "Splitwise", ISCA
2024), licensed CC-BY-4.0. Each request becomes one llm_invoke plan with its real context tokens;
ground truth is its real generated tokens priced by the price table. The trace has no latency, so
the dataset has no duration truth (latency is modelled, never validated, on this data).

Split by time: the earliest 70 % of requests are `train` (V2's bootstrap fit and calibration
windows), the later 30 % `heldout` (what V2 is judged on, and the pool the execution model draws
synthetic output lengths from).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from costsim_assets.simulator.prices import PriceTable

TRACE_SHA256 = "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6"
TRACE_URL = (
    "https://raw.githubusercontent.com/Azure/AzurePublicDataset/master/data/AzureLLMInferenceTrace_code.csv"
)
ATTRIBUTION = (
    "Derived from the Azure Public Dataset AzureLLMInferenceTrace_code.csv "
    "(Patel et al., Splitwise, ISCA 2024), CC-BY-4.0."
)
SOURCE_SETTING = "COSTSIM_HISTORICAL_SOURCE"
SHA256_SETTING = "COSTSIM_HISTORICAL_SHA256"
HISTORICAL_SETTINGS = f"{SOURCE_SETTING} and {SHA256_SETTING}"
TRACE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
HISTORICAL_MODEL = "gpt-4o"
TENANTS = 8
TRAIN_SHARE = 0.7


class HistoricalSourceError(RuntimeError):
    """The trace could not be read or did not match its checksum."""


def read_trace_bytes(
    source: str, expected_sha256: str = TRACE_SHA256, setting: str = HISTORICAL_SETTINGS
) -> bytes:
    """Read a trace from a path or an http(s) URL and verify its sha256 (configurable, so anyone can
    validate against their own traffic in the same format); errors name `setting`."""
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 - configured URL
                data = response.read()
        else:
            data = Path(source).read_bytes()
    except OSError as error:
        raise HistoricalSourceError(
            f"trace not readable at {source!r} ({error}); set {setting} to a local copy or a reachable URL"
        ) from error
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256.strip().lower():
        raise HistoricalSourceError(
            f"trace at {source!r} has sha256 {digest}, expected {expected_sha256}; check {setting}"
        )
    return data


def _checked_columns(trace: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in TRACE_COLUMNS if c not in trace]
    if missing:
        raise HistoricalSourceError(f"the trace lacks the Azure-format column(s) {', '.join(missing)}")
    return trace


def parse_trace(data: bytes) -> pd.DataFrame:
    """TIMESTAMP, ContextTokens, GeneratedTokens (the Azure format), sorted by time (stable).

    Anything else is refused with one message: missing columns, unparsable times or token counts,
    negative counts, no rows.
    """
    try:
        trace = _checked_columns(pd.read_csv(io.BytesIO(data), dtype={"TIMESTAMP": str}))
        times = pd.to_datetime(trace["TIMESTAMP"], utc=True)
        tokens = trace[list(TRACE_COLUMNS[1:])].apply(pd.to_numeric, errors="raise")
    except (ValueError, pd.errors.ParserError) as error:
        raise HistoricalSourceError(f"not a trace in the Azure format: {error}") from error
    if trace.empty or tokens.isna().any(axis=None):
        raise HistoricalSourceError("not a trace in the Azure format: no rows, or missing token counts")
    if (tokens < 0).any(axis=None):
        raise HistoricalSourceError("not a trace in the Azure format: negative token counts")
    order = np.argsort(times.to_numpy(), kind="stable")
    return trace.iloc[order].reset_index(drop=True)


def train_rows(n_rows: int) -> int:
    """How many of the earliest rows are training rows (the first 70 %)."""
    return int(n_rows * TRAIN_SHARE)


def is_training_row(n_rows: int) -> np.ndarray:
    """Time-ordered split of a time-sorted trace: the earliest 70 % train, the rest held out."""
    return np.arange(n_rows) < train_rows(n_rows)


def _salted(salt: str, text: str) -> str:
    return hmac.new(salt.encode(), text.encode(), hashlib.sha256).hexdigest()


def anonymize(trace: pd.DataFrame, salt: str) -> pd.DataFrame:
    """Coarsen timestamps to the hour, replace identifiers by salted hashes, assign tenants."""
    raw_ids = [f"{ts}#{i}" for i, ts in enumerate(trace["TIMESTAMP"])]
    record_ids = [_salted(salt, raw)[:24] for raw in raw_ids]
    frame = pd.DataFrame(
        {
            "record_id": record_ids,
            "tenant_id": [f"tenant-h{int(rid[:8], 16) % TENANTS:02d}" for rid in record_ids],
            "ts": pd.to_datetime(trace["TIMESTAMP"], utc=True).dt.floor("h"),
            "context_tokens": trace["ContextTokens"].astype(np.int64),
            "generated_tokens": trace["GeneratedTokens"].astype(np.int64),
            "split": np.where(is_training_row(len(trace)), "train", "heldout"),
        }
    )
    assert_anonymized(frame, trace)
    return frame


def assert_anonymized(frame: pd.DataFrame, trace: pd.DataFrame) -> None:
    """No raw timestamp or identifier survives; every time is on an hour boundary."""
    raw = set(trace["TIMESTAMP"])
    text_columns = frame.select_dtypes(include=["object", "string"])
    leaked = any(value in raw for column in text_columns for value in text_columns[column])
    if leaked or (frame["ts"] != frame["ts"].dt.floor("h")).any():
        raise HistoricalSourceError("anonymization check failed: a raw timestamp survived")


def historical_records(anonymized: pd.DataFrame, prices: PriceTable) -> pd.DataFrame:
    """Plans and ground-truth cost (real tokens x list price); no duration truth (none was measured)."""
    price_in, price_out = prices.cents_per_token(HISTORICAL_MODEL)
    context = anonymized["context_tokens"].to_numpy(np.float64)
    generated = anonymized["generated_tokens"].to_numpy(np.float64)
    frame = anonymized.copy()
    frame["region"] = "azure"
    frame["plan"] = [
        {
            "steps": [
                {"skill": "llm_invoke", "params": {"prompt_tokens": int(c), "model": HISTORICAL_MODEL}}
            ],
            "budget_cents": 100,
            "tenant_id": t,
        }
        for c, t in zip(anonymized["context_tokens"], anonymized["tenant_id"], strict=False)
    ]
    frame["noise"] = ""
    frame["actual_cost_cents"] = context * price_in + generated * price_out
    frame["actual_duration_ms"] = np.nan
    frame["actual_failed"] = False
    return frame
