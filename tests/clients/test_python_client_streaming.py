"""100k history rows leave the server as a stream and reach a file with flat client memory.

The server runs in another process, so tracemalloc's peak is the client's alone; the bound is far
below the file's size, which proves the body never sits in memory whole."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from costsim_client import AsyncClient, Client, Downloaded

from tests.clients.live_server import BULK_ENTITY, LiveServer

PEAK_LIMIT = 16 * 2**20


def traced(download: Callable[[], Downloaded]) -> tuple[Downloaded, int]:
    """Run a download under tracemalloc: what it wrote and the client's peak traced memory."""
    tracemalloc.start()
    try:
        got = download()
        return got, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def report(what: str, got: Downloaded, peak: int) -> None:
    print(f"\n{what}: {got.bytes / 2**20:.1f} MiB written, client peak {peak / 2**20:.2f} MiB")


def test_streamed_csv_export_of_100k_rows_keeps_client_memory_flat(
    server: LiveServer, bulk_history, tmp_path
):
    with Client(server.base_url, server.keys["bulk_auditor"], timeout=120) as client:
        got, peak = traced(
            lambda: client.export_status_history(tmp_path / "h.csv", format="csv", entity_type=BULK_ENTITY)
        )
    report("GET /status-history?format=csv (100k rows)", got, peak)
    assert line_count(got.path) == bulk_history + 1
    assert peak < PEAK_LIMIT < got.bytes


def test_export_link_download_of_100k_rows_async_keeps_client_memory_flat(
    server: LiveServer, bulk_history, tmp_path
):
    async def export_and_download() -> Downloaded:
        async with AsyncClient(server.base_url, server.keys["bulk_auditor"], timeout=120) as client:
            created = await client.create_export(format="jsonl", entity_type=BULK_ENTITY)
            assert created["rows"] == bulk_history
            return await client.download_export(created, tmp_path / "h.jsonl")

    got, peak = traced(lambda: asyncio.run(export_and_download()))
    report("POST /status-history/exports + signed download (async, 100k rows)", got, peak)
    assert line_count(got.path) == bulk_history
    assert peak < PEAK_LIMIT < got.bytes
