"""What the sync and async clients share: the calls, the retry rule and the response parsing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from costsim_client.errors import RateLimitedError, TransportError, error_for
from costsim_client.types import HistoryFilters, Instant, Outcome, OutcomeBatchResult

T = TypeVar("T")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_OUTCOMES_PER_REQUEST = 1000  # the API's batch limit
USER_AGENT = "costsim-client-python/1.0.0"


@dataclass(frozen=True)
class RetryPolicy:
    """429s are retried after Retry-After at most `max_retries` times, never waiting over `max_wait_s`."""

    max_retries: int = 3
    max_wait_s: float = 30.0


@dataclass(frozen=True)
class RetryEvent:
    """Told to `on_retry` before each wait, so callers can log or count retries."""

    attempt: int
    wait_s: float
    error: RateLimitedError


RetryHook = Callable[[RetryEvent], None]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request answering T; `auth` False for signed links (the link is the credential)."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    auth: bool = True
    ok: tuple[int, ...] = ()


def client_kwargs(
    base_url: str, timeout: httpx.Timeout | float, headers: dict[str, str] | None
) -> dict[str, Any]:
    """httpx client options both clients use (explicit timeout, identifying user agent)."""
    return {
        "base_url": base_url,
        "timeout": timeout,
        "headers": {"User-Agent": USER_AGENT, **(headers or {})},
    }


def request_kwargs(call: Call[Any], api_key: str | None) -> dict[str, Any]:
    """build_request arguments for a call; the key goes only on authenticated calls."""
    headers = {"X-API-Key": api_key} if call.auth and api_key else {}
    return {"params": call.params, "json": call.json, "headers": headers}


def is_success(response: httpx.Response, call: Call[Any]) -> bool:
    return response.status_code < 400 or response.status_code in call.ok


def retry_wait(response: httpx.Response, attempt: int, policy: RetryPolicy) -> tuple[float, RateLimitedError]:
    """(seconds to wait, error) when a retry is allowed; raises the typed error when it is not."""
    error = error_for(response)
    if not isinstance(error, RateLimitedError):
        raise error
    if attempt >= policy.max_retries or error.retry_after_s > policy.max_wait_s:
        raise error
    return error.retry_after_s, error


def transport_error(error: httpx.TransportError) -> TransportError:
    """A network failure as the SDK's error (status 0), naming timeouts explicitly."""
    code = "timeout" if isinstance(error, httpx.TimeoutException) else "transport_error"
    return TransportError(0, code, str(error) or type(error).__name__)


def instant(value: Instant) -> str:
    return value if isinstance(value, str) else value.isoformat()


def history_params(filters: HistoryFilters, **extra: Any) -> dict[str, Any]:
    """Query parameters of the history endpoints, without unset filters."""
    params: dict[str, Any] = {**filters, **extra}
    for name in ("created_from", "created_to"):
        if params.get(name) is not None:
            params[name] = instant(params[name])
    return {k: v for k, v in params.items() if v is not None}


def report_params(start: Instant, end: Instant, fmt: str, **filters: str | None) -> dict[str, Any]:
    params = {"start": instant(start), "end": instant(end), "format": fmt, **filters}
    return {k: v for k, v in params.items() if v is not None}


def outcome_chunks(outcomes: Sequence[Outcome]) -> list[Sequence[Outcome]]:
    """Batches the API accepts (at most MAX_OUTCOMES_PER_REQUEST each)."""
    size = MAX_OUTCOMES_PER_REQUEST
    return [outcomes[i : i + size] for i in range(0, len(outcomes), size)]


def merge_outcomes(parts: Iterable[OutcomeBatchResult]) -> OutcomeBatchResult:
    """One answer for a chunked report: results in order, counts added up."""
    merged: OutcomeBatchResult = {"results": [], "counts": {}}
    for part in parts:
        merged["results"].extend(part["results"])
        for status, count in part["counts"].items():
            merged["counts"][status] = merged["counts"].get(status, 0) + count
    return merged


def partial_path(path: Path) -> Path:
    """Where a download is written before it is renamed into place (no half files at `path`)."""
    return path.with_name(path.name + ".part")


def parquet_table(content: bytes) -> Any:
    """A Parquet body as a pyarrow Table (pyarrow is the `parquet` extra, imported only here)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(content))
