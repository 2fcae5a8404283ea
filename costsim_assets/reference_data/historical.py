"""The historical dataset: the real Azure LLM inference trace, anonymized into golden data.

Source: Azure Public Dataset, AzureLLMInferenceTrace_code.csv (Patel et al., "Splitwise", ISCA
2024), licensed CC-BY-4.0. Each request becomes one llm_invoke plan with its real context tokens;
ground truth is its real generated tokens priced by the price table.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from costsim_assets.reference_data.execution_model import (
    LLM_BASE_MS,
    LLM_DECODE_MS_PER_TOKEN,
    LLM_PREFILL_MS_PER_TOKEN,
)
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
HISTORICAL_MODEL = "gpt-4o"
TENANTS = 8
TRAIN_SHARE_OF_TEN = 7
HISTORICAL_SEED = 505


class HistoricalSourceError(RuntimeError):
    """The trace could not be read or did not match its checksum."""


def read_trace_bytes(
    source: str, expected_sha256: str = TRACE_SHA256, setting: str = SOURCE_SETTING
) -> bytes:
    """Read a trace from a path or an http(s) URL and verify its sha256 (errors name `setting`)."""
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
    if digest != expected_sha256:
        raise HistoricalSourceError(
            f"trace at {source!r} has sha256 {digest}, expected {expected_sha256}; check {setting}"
        )
    return data


def parse_trace(data: bytes) -> pd.DataFrame:
    """TIMESTAMP, ContextTokens, GeneratedTokens (CRLF, no trailing newline)."""
    return pd.read_csv(io.BytesIO(data), dtype={"TIMESTAMP": str})


def is_training_row(row_number: np.ndarray) -> np.ndarray:
    """Deterministic 70/30 split by position; V2 fits on train, is judged on held-out."""
    return row_number % 10 < TRAIN_SHARE_OF_TEN


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
            "split": np.where(is_training_row(np.arange(len(trace))), "train", "heldout"),
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
    """Plans, ground-truth cost (real tokens x list price) and execution-model latency."""
    rng = np.random.default_rng(HISTORICAL_SEED)
    price_in, price_out = prices.cents_per_token(HISTORICAL_MODEL)
    context = anonymized["context_tokens"].to_numpy(np.float64)
    generated = anonymized["generated_tokens"].to_numpy(np.float64)
    median_ms = LLM_BASE_MS + LLM_PREFILL_MS_PER_TOKEN * context + LLM_DECODE_MS_PER_TOKEN * generated
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
    frame["actual_duration_ms"] = median_ms * rng.lognormal(0.0, 0.2, len(frame))
    frame["actual_failed"] = False
    return frame
