"""The sync Python client against a live server: every operation and every error family."""

from __future__ import annotations

import csv
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from costsim_client import (
    AuthenticationError,
    Client,
    ConflictError,
    CostSimError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationError,
)

from costsim_assets.reports.divergence import signed_report_url
from costsim_assets.security.signing import parse_signing_keys
from tests.clients.live_server import LiveServer, free_port
from tests.clients.sdk_data import INVALID_PLAN, outcome, plan, today_range, until


@pytest.fixture
def connect(server: LiveServer):
    opened: list[Client] = []

    def make(role: str, **options) -> Client:
        opened.append(Client(server.base_url, server.keys[role], **options))
        return opened[-1]

    yield make
    for client in opened:
        client.close()


def test_health_and_readiness(connect):
    client = connect("engineer")
    assert client.health() == {"status": "ok"}
    assert client.ready()["status"] == "ok"


def test_simulate_one_plan_and_a_batch_with_an_invalid_plan(connect):
    client = connect("service")
    answer = client.simulate(plan())
    assert answer["shadow"] == "recorded" and answer["result"]["status"] == "FEASIBLE"
    first, bad, last = client.simulate_batch([plan(100), INVALID_PLAN, plan(2000)])
    assert isinstance(bad, ValidationError) and bad.code == "schema_error"
    assert bad.details and all({"path", "reason"} <= set(issue) for issue in bad.details)
    assert first["request_id"] != last["request_id"]


def test_outcomes_accepted_duplicate_unknown_and_chunked_past_the_batch_limit(connect):
    client = connect("service")
    request_id = client.simulate(plan())["request_id"]
    assert client.report_outcomes([outcome(request_id)])["counts"] == {"accepted": 1}
    again = client.report_outcomes([outcome(request_id), outcome("no-such-request")])
    assert [a["status"] for a in again["results"]] == ["duplicate", "unknown_request"]
    many = client.report_outcomes([outcome(f"unknown-{i}") for i in range(1001)])
    assert many["counts"] == {"unknown_request": 1001} and len(many["results"]) == 1001


def test_kill_switch_round_trip_and_409_when_nothing_changes(connect):
    admin = connect("admin")
    assert admin.v2_status()["routing_state"] == "enabled"
    disabled = admin.disable_v2("sdk test: drill")
    assert disabled["routing_state"] == "disabled" and not disabled["v2_running"]
    assert disabled["last_transition"]["reason"] == "sdk test: drill"
    with pytest.raises(ConflictError) as conflict:
        admin.disable_v2("sdk test: again")
    assert conflict.value.status == 409 and conflict.value.code == "no_transition"
    assert admin.enable_v2("sdk test: drill over")["routing_state"] == "enabled"


def test_401_403_422_carry_the_api_error(connect, server):
    with pytest.raises(AuthenticationError) as unauthenticated:
        Client(server.base_url, "csk_nope_nope").v2_status()
    assert unauthenticated.value.code == "unauthenticated"
    with pytest.raises(PermissionDeniedError) as forbidden:
        connect("engineer").disable_v2("not mine to flip")
    assert forbidden.value.details == {"missing_permission": "v2:write", "role": "engineer"}
    with pytest.raises(ValidationError) as invalid:
        connect("admin").disable_v2("no")
    assert invalid.value.details[0]["path"] == "body.reason"
    with pytest.raises(PermissionDeniedError) as mismatch:
        connect("auditor").divergence_report(*today_range(), tenant="tenant-b")
    assert mismatch.value.code == "tenant_mismatch"


def report_link(server: LiveServer, name: str) -> str:
    """The signed link the Dagster UI would show for a report file."""
    return signed_report_url(parse_signing_keys(server.signing_keys), server.base_url, name, 60)


def test_404_for_a_signed_link_to_a_missing_report_file(connect, server, tmp_path):
    url = signed_report_url(
        parse_signing_keys(server.signing_keys), server.base_url, "divergence_2026-01-01.csv", 60
    )
    with pytest.raises(NotFoundError) as missing:
        connect("engineer").download_report_file(url, tmp_path / "report.csv")
    assert missing.value.code == "not_found" and not (tmp_path / "report.csv").exists()


def test_report_file_downloads_by_its_signed_link(connect, server, tmp_path):
    folder = server.artifact_root / "reports" / "divergence" / "2026-02-03"
    folder.mkdir(parents=True, exist_ok=True)
    content = "provenance_id,matched\np1,true\n"
    (folder / "divergence_2026-02-03.csv").write_text(content)
    url = report_link(server, "divergence_2026-02-03.csv")
    got = connect("engineer").download_report_file(url, tmp_path / "r.csv")
    assert got.path.read_text() == content and got.bytes == len(content)


def test_429_is_retried_after_retry_after(connect):
    waits: list[RetryEvent] = []
    client = connect("slow_0", retry=RetryPolicy(max_retries=3, max_wait_s=5), on_retry=waits.append)
    answers = [client.simulate(plan()) for _ in range(2)]
    assert len({a["request_id"] for a in answers}) == 2
    assert waits and waits[0].attempt == 1 and waits[0].wait_s == 1 and waits[0].error.status == 429


def test_429_raises_when_retries_are_spent_or_the_wait_is_too_long(connect):
    client = connect("glacial_0", retry=RetryPolicy(max_retries=3, max_wait_s=5))
    client.simulate(plan())
    with pytest.raises(RateLimitedError) as limited:
        client.simulate(plan())
    assert limited.value.retry_after_s == 100 and limited.value.code == "rate_limited"
    assert limited.value.details["retry_after_s"] > 5
    no_retries = connect("slow_1", retry=RetryPolicy(max_retries=0))
    no_retries.simulate(plan())
    with pytest.raises(RateLimitedError):
        no_retries.simulate(plan())


class Gateway(BaseHTTPRequestHandler):
    """A failing gateway in front of the API: an API-shaped 503, a proxy's HTML 502, or a download
    cut off half way."""

    def do_GET(self) -> None:  # noqa: N802 - the handler's required name
        if self.path.startswith("/truncated"):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            return
        api = self.path.startswith("/healthz")
        body = API_503 if api else b"<h1>502</h1>"
        self.send_response(503 if api else 502)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        """Quiet: the test reads the client's error, not the server's log."""


API_503 = b'{"error":{"code":"draining","message":"shutting down","details":null}}'


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_5xx_is_a_server_error_whatever_the_body(gateway):
    with Client(gateway) as client:
        with pytest.raises(ServerError) as draining:
            client.health()
        with pytest.raises(ServerError) as proxy:
            client.v2_status()
    assert (draining.value.status, draining.value.code) == (503, "draining")
    assert draining.value.message == "shutting down"
    assert (proxy.value.status, proxy.value.code, proxy.value.message) == (502, "http_502", "<h1>502</h1>")


def test_a_download_cut_off_half_way_is_a_transport_error_and_leaves_no_file(gateway, tmp_path):
    with Client(gateway) as client, pytest.raises(TransportError) as cut:
        client.download_report_file("/truncated", tmp_path / "report.csv")
    assert cut.value.code == "transport_error" and list(tmp_path.iterdir()) == []


def test_explicit_timeouts_and_refused_connections_are_transport_errors():
    with socket.socket() as silent:  # the kernel completes the connection; nothing ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(TransportError) as timed_out:
            Client(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2).health()
    assert timed_out.value.code == "timeout" and timed_out.value.status == 0
    with pytest.raises(TransportError) as refused:
        Client(f"http://127.0.0.1:{free_port()}", timeout=2).health()
    assert refused.value.code == "transport_error"


def seed_transitions(admin: Client, count: int) -> None:
    """Routing transitions are global history rows every tenant's auditor reads."""
    for i in range(count):
        admin.disable_v2(f"sdk history {i}")
        admin.enable_v2(f"sdk history {i} over")


def test_history_iterates_every_keyset_page_and_matches_the_streamed_export(connect, tmp_path):
    seed_transitions(connect("admin"), 3)
    auditor = connect("auditor")
    rows = list(auditor.iter_status_history(page_size=2, entity_type="v2_routing"))
    ids = [row["id"] for row in rows]
    assert len(ids) >= 6 and ids == sorted(set(ids))
    first = auditor.status_history_page(limit=2, entity_type="v2_routing")
    assert first["next_cursor"] and [r["id"] for r in first["items"]] == ids[:2]
    exported = auditor.export_status_history(tmp_path / "h.csv", format="csv", entity_type="v2_routing")
    with exported.path.open() as handle:
        assert [int(r["id"]) for r in csv.DictReader(handle)] == ids


def test_export_created_then_downloaded_by_its_signed_link(connect, tmp_path):
    seed_transitions(connect("admin"), 1)
    auditor = connect("auditor")
    created = auditor.create_export(format="jsonl", entity_type="v2_routing")
    assert created["rows"] >= 2 and created["url"].startswith("/status-history/exports/")
    got = auditor.download_export(created, tmp_path / "export.jsonl")
    lines = got.path.read_text().splitlines()
    assert len(lines) == created["rows"] and json.loads(lines[0])["entity_type"] == "v2_routing"
    with pytest.raises(PermissionDeniedError) as refused:
        auditor.download_export(created["url"].replace("sig=", "sig=x"), tmp_path / "no.jsonl")
    assert refused.value.code == "forbidden"


def test_divergence_report_in_every_format(connect, tmp_path):
    admin, tenant = connect("admin"), "tenant-div-sync"
    ids = {admin.simulate(plan(300 * (i + 1), tenant=tenant))["request_id"] for i in range(3)}
    start, end = today_range()
    assert until(lambda: admin.divergence_report(start, end, tenant=tenant)["summary"]["n_pairs"] == 3)
    report = admin.divergence_report(start, end, tenant=tenant)
    assert report["filters"]["tenant"] == tenant and report["summary"]["n_rows"] == 3
    table = admin.divergence_table(start, end, tenant=tenant)
    assert isinstance(table, pa.Table) and table.num_rows == 3
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame) and set(frame["tenant_id"]) == {tenant}
    assert frame["v2_cost_cents"].notna().all()
    for fmt in ("csv", "jsonl", "parquet"):
        got = admin.download_divergence_report(start, end, tmp_path / f"d.{fmt}", format=fmt, tenant=tenant)
        assert got.bytes == got.path.stat().st_size > 0
    with (tmp_path / "d.csv").open() as handle:
        assert len(list(csv.DictReader(line for line in handle if not line.startswith("#")))) == 3
    assert len((tmp_path / "d.jsonl").read_text().splitlines()) >= 3
    assert len(ids) == 3


def test_every_error_is_a_costsim_error(connect):
    with pytest.raises(CostSimError) as invalid:
        connect("engineer").divergence_report("2026-01-02", "2026-01-01")
    assert invalid.value.status == 422 and invalid.value.code == "invalid_range"


def test_download_failure_leaves_no_file(connect, tmp_path: Path):
    with pytest.raises(PermissionDeniedError):
        connect("auditor").download_export("/status-history/exports/nope/download", tmp_path / "x")
    assert list(tmp_path.iterdir()) == []
