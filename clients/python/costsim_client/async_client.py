"""The asynchronous client: the same operations as Client, on one httpx.AsyncClient."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
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


class AsyncClient:
    """CostSim API v1, asynchronous. Use as an async context manager (or await aclose())."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        on_retry: RetryHook | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key, self._retry, self._on_retry = api_key, retry or RetryPolicy(), on_retry
        self._http = httpx.AsyncClient(transport=transport, **client_kwargs(base_url, timeout, headers))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call[Any], stream: bool = False) -> httpx.Response:
        """Send with retries on 429; a non-success answer raises its typed error."""
        attempt = 0
        while True:
            request = self._http.build_request(call.method, call.path, **request_kwargs(call, self._api_key))
            try:
                response = await self._http.send(request, stream=stream)
            except httpx.TransportError as error:
                raise transport_error(error) from error
            if is_success(response, call):
                return response
            await response.aread()
            await response.aclose()
            wait, limited = retry_wait(response, attempt, self._retry)
            attempt += 1
            if self._on_retry:
                self._on_retry(RetryEvent(attempt, wait, limited))
            await asyncio.sleep(wait)

    async def _json(self, call: Call[T]) -> T:
        return cast(T, (await self._send(call)).json())

    async def _download(self, call: Call[Any], path: str | Path) -> Downloaded:
        """Stream a body to `path` in chunks (memory stays flat), renamed into place when complete."""
        target = Path(path)
        partial, written = partial_path(target), 0
        response = await self._send(call, stream=True)
        try:
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    written += out.write(chunk)
        except BaseException as error:
            partial.unlink(missing_ok=True)
            if isinstance(error, httpx.TransportError):
                raise transport_error(error) from error
            raise
        finally:
            await response.aclose()
        partial.replace(target)
        return Downloaded(target, written)

    async def health(self) -> dict[str, str]:
        """GET /healthz: the process is alive."""
        return await self._json(_calls.HEALTH)

    async def ready(self) -> Readiness:
        """GET /readyz: database reachable and migrated (a 503 answer is returned, not raised)."""
        return await self._json(_calls.READY)

    async def simulate(self, plan: Plan) -> SimulateResponse:
        """V1's answer for one plan (V2 runs in shadow server-side); keep request_id for outcomes."""
        return await self._json(_calls.simulate(plan))

    async def simulate_batch(
        self, plans: Sequence[Plan], *, concurrency: int = 8
    ) -> list[SimulateResponse | ValidationError]:
        """One answer per plan, in order, at most `concurrency` in flight; an invalid plan yields its
        ValidationError, not a raise."""
        gate = asyncio.Semaphore(concurrency)

        async def one(plan: Plan) -> SimulateResponse | ValidationError:
            async with gate:
                try:
                    return await self.simulate(plan)
                except ValidationError as error:
                    return error

        return list(await asyncio.gather(*(one(plan) for plan in plans)))

    async def report_outcomes(self, outcomes: Sequence[Outcome]) -> OutcomeBatchResult:
        """Report realized outcomes (any number: sent in batches the API accepts), one answer each."""
        return merge_outcomes(
            [await self._json(_calls.outcomes(chunk)) for chunk in outcome_chunks(outcomes)]
        )

    async def v2_status(self) -> V2Status:
        return await self._json(_calls.V2_STATUS)

    async def disable_v2(self, reason: str) -> V2Status:
        """The kill switch (admin); ConflictError when V2 is already disabled."""
        return await self._json(_calls.v2_switch("disable", reason))

    async def enable_v2(self, reason: str) -> V2Status:
        """Re-enable V2 routing (admin); ConflictError when it is already enabled."""
        return await self._json(_calls.v2_switch("enable", reason))

    async def status_history_page(
        self, *, limit: int = 100, cursor: str | None = None, **filters: Unpack[HistoryFilters]
    ) -> HistoryPage:
        return await self._json(_calls.history_page(filters, limit, cursor))

    async def iter_status_history(
        self, *, page_size: int = 1000, **filters: Unpack[HistoryFilters]
    ) -> AsyncIterator[HistoryRow]:
        """Every matching row, oldest first, following keyset cursors page by page."""
        cursor: str | None = None
        while True:
            page = await self.status_history_page(limit=page_size, cursor=cursor, **filters)
            for row in page["items"]:
                yield row
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def export_status_history(
        self, path: str | Path, *, format: HistoryFormat = "csv", **filters: Unpack[HistoryFilters]
    ) -> Downloaded:
        """Stream every matching row (csv or jsonl) straight into a file."""
        return await self._download(_calls.history_stream(filters, format), path)

    async def create_export(
        self, *, format: HistoryFormat = "jsonl", **filters: Unpack[HistoryFilters]
    ) -> ExportCreated:
        """A server-side export, recorded for audit, with a signed expiring download link."""
        return await self._json(_calls.create_export(filters, format))

    async def download_export(self, export: ExportCreated | str, path: str | Path) -> Downloaded:
        """Download an export by its signed link (no API key is sent: the link is the credential)."""
        url = export if isinstance(export, str) else export["url"]
        return await self._download(_calls.signed_link(url), path)

    async def divergence_report(
        self,
        start: Instant,
        end: Instant,
        **filters: Unpack[ReportFilters],
    ) -> DivergenceReport:
        """The V2-vs-V1 divergence summary over [start, end)."""
        return await self._json(_calls.divergence_summary(start, end, **filters))

    async def divergence_table(
        self,
        start: Instant,
        end: Instant,
        **filters: Unpack[ReportFilters],
    ) -> pa.Table:
        """Every V1/V2 pair as a pyarrow Table (`.to_pandas()` for a DataFrame); needs the parquet extra."""
        return parquet_table(
            (await self._send(_calls.divergence_pairs(start, end, "parquet", **filters))).content
        )

    async def download_divergence_report(
        self,
        start: Instant,
        end: Instant,
        path: str | Path,
        *,
        format: ReportFormat = "csv",
        **filters: Unpack[ReportFilters],
    ) -> Downloaded:
        """Stream the report's pairs (csv, jsonl or parquet) into a file."""
        return await self._download(_calls.divergence_pairs(start, end, format, **filters), path)

    async def download_report_file(self, url: str, path: str | Path) -> Downloaded:
        """A report file by the signed link the Dagster UI shows (absolute or relative)."""
        return await self._download(_calls.signed_link(url), path)
