"""The synchronous client: one httpx.Client, explicit timeouts, bounded 429 retries."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, Unpack, cast

import httpx

from costsim_client import _calls
from costsim_client._core import (
    DEFAULT_TIMEOUT,
    Call,
    RetryEvent,
    RetryHook,
    RetryPolicy,
    client_kwargs,
    is_success,
    merge_outcomes,
    outcome_chunks,
    parquet_table,
    partial_path,
    request_kwargs,
    retry_wait,
    transport_error,
)
from costsim_client.errors import ValidationError
from costsim_client.types import (
    DivergenceReport,
    Downloaded,
    ExportCreated,
    HistoryFilters,
    HistoryFormat,
    HistoryPage,
    HistoryRow,
    Instant,
    Outcome,
    OutcomeBatchResult,
    Plan,
    Readiness,
    ReportFilters,
    ReportFormat,
    SimulateResponse,
    V2Status,
)

T = TypeVar("T")

if TYPE_CHECKING:
    import pyarrow as pa


class Client:
    """CostSim API v1, synchronous. Use as a context manager (or call close())."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        on_retry: RetryHook | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key, self._retry, self._on_retry = api_key, retry or RetryPolicy(), on_retry
        self._http = httpx.Client(transport=transport, **client_kwargs(base_url, timeout, headers))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        """Send with retries on 429; a non-success answer raises its typed error."""
        attempt = 0
        while True:
            request = self._http.build_request(call.method, call.path, **request_kwargs(call, self._api_key))
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                raise transport_error(error) from error
            if is_success(response, call):
                return response
            response.read()
            response.close()
            wait, limited = retry_wait(response, attempt, self._retry)
            attempt += 1
            if self._on_retry:
                self._on_retry(RetryEvent(attempt, wait, limited))
            time.sleep(wait)

    def _json(self, call: Call[T]) -> T:
        return cast(T, self._send(call).json())

    def _download(self, call: Call[Any], path: str | Path) -> Downloaded:
        """Stream a body to `path` in chunks (memory stays flat), renamed into place when complete."""
        target = Path(path)
        partial, written = partial_path(target), 0
        response = self._send(call, stream=True)
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    written += out.write(chunk)
        except BaseException as error:
            partial.unlink(missing_ok=True)
            if isinstance(error, httpx.TransportError):
                raise transport_error(error) from error
            raise
        finally:
            response.close()
        partial.replace(target)
        return Downloaded(target, written)

    def health(self) -> dict[str, str]:
        """GET /healthz: the process is alive."""
        return self._json(_calls.HEALTH)

    def ready(self) -> Readiness:
        """GET /readyz: database reachable and migrated (a 503 answer is returned, not raised)."""
        return self._json(_calls.READY)

    def simulate(self, plan: Plan) -> SimulateResponse:
        """V1's answer for one plan (V2 runs in shadow server-side); keep request_id for outcomes."""
        return self._json(_calls.simulate(plan))

    def simulate_batch(self, plans: Sequence[Plan]) -> list[SimulateResponse | ValidationError]:
        """One answer per plan, in order; an invalid plan yields its ValidationError, not a raise."""
        answers: list[SimulateResponse | ValidationError] = []
        for plan in plans:
            try:
                answers.append(self.simulate(plan))
            except ValidationError as error:
                answers.append(error)
        return answers

    def report_outcomes(self, outcomes: Sequence[Outcome]) -> OutcomeBatchResult:
        """Report realized outcomes (any number: sent in batches the API accepts), one answer each."""
        return merge_outcomes(self._json(_calls.outcomes(chunk)) for chunk in outcome_chunks(outcomes))

    def v2_status(self) -> V2Status:
        return self._json(_calls.V2_STATUS)

    def disable_v2(self, reason: str) -> V2Status:
        """The kill switch (admin); ConflictError when V2 is already disabled."""
        return self._json(_calls.v2_switch("disable", reason))

    def enable_v2(self, reason: str) -> V2Status:
        """Re-enable V2 routing (admin); ConflictError when it is already enabled."""
        return self._json(_calls.v2_switch("enable", reason))

    def status_history_page(
        self, *, limit: int = 100, cursor: str | None = None, **filters: Unpack[HistoryFilters]
    ) -> HistoryPage:
        return self._json(_calls.history_page(filters, limit, cursor))

    def iter_status_history(
        self, *, page_size: int = 1000, **filters: Unpack[HistoryFilters]
    ) -> Iterator[HistoryRow]:
        """Every matching row, oldest first, following keyset cursors page by page."""
        cursor: str | None = None
        while True:
            page = self.status_history_page(limit=page_size, cursor=cursor, **filters)
            yield from page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def export_status_history(
        self, path: str | Path, *, format: HistoryFormat = "csv", **filters: Unpack[HistoryFilters]
    ) -> Downloaded:
        """Stream every matching row (csv or jsonl) straight into a file."""
        return self._download(_calls.history_stream(filters, format), path)

    def create_export(
        self, *, format: HistoryFormat = "jsonl", **filters: Unpack[HistoryFilters]
    ) -> ExportCreated:
        """A server-side export, recorded for audit, with a signed expiring download link."""
        return self._json(_calls.create_export(filters, format))

    def download_export(self, export: ExportCreated | str, path: str | Path) -> Downloaded:
        """Download an export by its signed link (no API key is sent: the link is the credential)."""
        url = export if isinstance(export, str) else export["url"]
        return self._download(_calls.signed_link(url), path)

    def divergence_report(
        self,
        start: Instant,
        end: Instant,
        **filters: Unpack[ReportFilters],
    ) -> DivergenceReport:
        """The V2-vs-V1 divergence summary over [start, end)."""
        return self._json(_calls.divergence_summary(start, end, **filters))

    def divergence_table(
        self,
        start: Instant,
        end: Instant,
        **filters: Unpack[ReportFilters],
    ) -> pa.Table:
        """Every V1/V2 pair as a pyarrow Table (`.to_pandas()` for a DataFrame); needs the parquet extra."""
        return parquet_table(self._send(_calls.divergence_pairs(start, end, "parquet", **filters)).content)

    def download_divergence_report(
        self,
        start: Instant,
        end: Instant,
        path: str | Path,
        *,
        format: ReportFormat = "csv",
        **filters: Unpack[ReportFilters],
    ) -> Downloaded:
        """Stream the report's pairs (csv, jsonl or parquet) into a file."""
        return self._download(_calls.divergence_pairs(start, end, format, **filters), path)

    def download_report_file(self, url: str, path: str | Path) -> Downloaded:
        """A report file by the signed link the Dagster UI shows (absolute or relative)."""
        return self._download(_calls.signed_link(url), path)
