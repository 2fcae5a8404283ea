"""The async Python client against the same live server: every operation and error family."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pyarrow as pa
import pytest
from costsim_client import (
    AsyncClient,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryEvent,
    RetryPolicy,
    ValidationError,
)

from costsim_assets.reports.divergence import signed_report_url
from costsim_assets.security.signing import parse_signing_keys
from tests.clients.live_server import LiveServer
from tests.clients.sdk_data import INVALID_PLAN, outcome, plan, today_range

T = TypeVar("T")


@pytest.fixture
def run(server: LiveServer):
    """Run a coroutine with a client of a role (and options) on a fresh event loop."""

    def runner(role: str, work: Callable[[AsyncClient], Awaitable[T]], **options) -> T:
        async def main() -> T:
            async with AsyncClient(server.base_url, server.keys[role], **options) as client:
                return await work(client)

        return asyncio.run(main())

    return runner


def test_health_readiness_and_status(run):
    async def work(client: AsyncClient):
        return await client.health(), await client.ready(), await client.v2_status()

    health, ready, status = run("engineer", work)
    assert health == {"status": "ok"} and ready["status"] == "ok"
    assert status["sandbox_flag"] is True and status["model_version"]


def test_concurrent_batch_keeps_order_and_reports_the_invalid_plan(run):
    plans = [plan(100 * (i + 1)) for i in range(12)]
    plans[5] = INVALID_PLAN
    answers = run("service", lambda c: c.simulate_batch(plans, concurrency=4))
    assert isinstance(answers[5], ValidationError) and answers[5].code == "schema_error"
    costs = [a["result"]["estimated_cost_cents"] for i, a in enumerate(answers) if i != 5]
    assert len({a["request_id"] for i, a in enumerate(answers) if i != 5}) == 11 and all(
        c >= 5 for c in costs
    )


def test_outcomes_reported_for_simulated_requests(run):
    async def work(client: AsyncClient):
        ids = [(await client.simulate(plan()))["request_id"] for _ in range(2)]
        return await client.report_outcomes([outcome(ids[0]), outcome(ids[1]), outcome(ids[0], 999)])

    answer = run("service", work)
    assert [a["status"] for a in answer["results"]] == ["accepted", "accepted", "conflict"]
    assert answer["counts"] == {"accepted": 2, "conflict": 1}


def test_kill_switch_and_409(run):
    async def work(client: AsyncClient):
        disabled = await client.disable_v2("sdk async drill")
        with pytest.raises(ConflictError):
            await client.disable_v2("sdk async drill again")
        return disabled, await client.enable_v2("sdk async drill over")

    disabled, enabled = run("admin", work)
    assert disabled["routing_state"] == "disabled" and enabled["routing_state"] == "enabled"


def test_error_families(run, server: LiveServer, tmp_path):
    with pytest.raises(AuthenticationError):
        asyncio.run(AsyncClient(server.base_url, "csk_a_b").v2_status())
    with pytest.raises(PermissionDeniedError) as forbidden:
        run("service", lambda c: c.v2_status())
    assert forbidden.value.details["missing_permission"] == "v2:read"
    with pytest.raises(ValidationError) as invalid:
        run("engineer", lambda c: c.divergence_report("yesterday", "today"))
    assert invalid.value.details == [
        {"path": "start", "reason": "expected YYYY-MM-DD or an ISO 8601 datetime"}
    ]
    url = signed_report_url(parse_signing_keys(server.signing_keys), "", "divergence_2030-01-01.jsonl", 60)
    with pytest.raises(NotFoundError):
        run("engineer", lambda c: c.download_report_file(url, tmp_path / "none.jsonl"))


def test_429_retried_then_spent(run):
    waits: list[RetryEvent] = []

    async def twice(client: AsyncClient):
        return [await client.simulate(plan()) for _ in range(2)]

    assert len(run("slow_2", twice, retry=RetryPolicy(max_wait_s=5), on_retry=waits.append)) == 2
    assert [w.wait_s for w in waits] == [1.0]
    with pytest.raises(RateLimitedError) as limited:
        run("glacial_1", twice, retry=RetryPolicy(max_wait_s=5))
    assert limited.value.retry_after_s == 100


def test_history_pages_export_and_link(run, tmp_path):
    async def work(client: AsyncClient):
        rows = [row async for row in client.iter_status_history(page_size=1, entity_type="v2_routing")]
        streamed = await client.export_status_history(tmp_path / "h.csv", entity_type="v2_routing")
        created = await client.create_export(format="csv", entity_type="v2_routing")
        linked = await client.download_export(created, tmp_path / "linked.csv")
        return rows, streamed, created, linked

    run("admin", lambda c: c.disable_v2("sdk async history"))
    run("admin", lambda c: c.enable_v2("sdk async history over"))
    rows, streamed, created, linked = run("auditor", work)
    assert len(rows) >= 2 and created["rows"] == len(rows)
    assert streamed.path.read_bytes() == linked.path.read_bytes()
    with linked.path.open() as handle:
        assert [int(r["id"]) for r in csv.DictReader(handle)] == [r["id"] for r in rows]


def test_divergence_summary_table_and_files(run, tmp_path):
    tenant = "tenant-div-async"
    start, end = today_range()

    async def work(client: AsyncClient):
        await client.simulate_batch([plan(500, tenant=tenant), plan(5000, tenant=tenant)])
        for _ in range(100):
            report = await client.divergence_report(start, end, tenant=tenant)
            if report["summary"]["n_pairs"] == 2:
                break
            await asyncio.sleep(0.1)
        table = await client.divergence_table(start, end, tenant=tenant)
        files = [
            await client.download_divergence_report(start, end, tmp_path / f"d.{f}", format=f, tenant=tenant)
            for f in ("csv", "jsonl", "parquet")
        ]
        return report, table, files

    report, table, files = run("admin", work)
    assert report["summary"]["n_pairs"] == 2
    assert isinstance(table, pa.Table) and table.num_rows == 2
    assert table.to_pandas()["v2_cost_cents"].notna().all()
    assert all(f.bytes == f.path.stat().st_size > 0 for f in files)
