"""GET /costsim/divergence-report (every filter, format, permission and range rule) and the signed
report-file downloads the Dagster asset links to."""

import base64
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from costsim_assets.reports.divergence import CSV_PREFIX, SUMMARY_KEY, report_file_name, signed_report_url
from costsim_assets.security.signing import parse_signing_keys
from costsim_assets.store.provenance import compress, insert_provenance
from tests.api.conftest import headers
from tests.api.test_simulate import PLAN, provenance_rows

SIGNING_KEYS = "k1:" + base64.urlsafe_b64encode(b"r" * 32).decode().rstrip("=")
DAY1, DAY2 = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
REPORT = "/costsim/divergence-report"


def _row(
    at: datetime,
    tenant: str,
    v1: float,
    v2: float | None,
    status: str = "ok",
    v1_version: str = "v1-m5-frozen",
    v2_version: str | None = "v2-a",
) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "created_at": at,
        "tenant_id": tenant,
        "request_id": uuid.uuid4().hex,
        "input_hash": uuid.uuid4().hex,
        "plan_z": compress({}),
        "code_version": "test",
        "v1_version": v1_version,
        "v1_output_hash": "a" * 64,
        "v1_cost_cents": v1,
        "v2_status": status,
        "v2_version": v2_version,
        "v2_output_hash": None if v2 is None else "b" * 64,
        "v2_cost_cents": v2,
    }


def seed(client) -> None:
    """tenant-a: 40 matching pairs + 1 error + 1 schema error + 1 other V1 on day 1, 35 doubled
    costs under v2-b on day 2; tenant-b: 32 matching pairs on day 1."""
    minute = timedelta(minutes=1)
    rows = [_row(DAY1 + i * minute, "tenant-a", 10.0 + i, (10.0 + i) * 1.01) for i in range(40)]
    rows += [
        _row(DAY1 + 41 * minute, "tenant-a", 20.0, None, "error"),
        _row(DAY1 + 42 * minute, "tenant-a", 0.0, None, "schema_error", v1_version=None, v2_version=None),
        _row(DAY1 + 43 * minute, "tenant-a", 5.0, 5.0, v1_version="v1-other"),
    ]
    rows += [
        _row(DAY2 + i * minute, "tenant-a", 10.0 + i, 2 * (10.0 + i), v2_version="v2-b") for i in range(35)
    ]
    rows += [_row(DAY1 + i * minute, "tenant-b", 50.0 + i, 50.0 + i) for i in range(32)]
    with client.app.state.services.sandbox_engine.begin() as conn:
        insert_provenance(conn, rows)


@pytest.fixture
def client(make_client, tmp_path):
    made = make_client(signing_keys=SIGNING_KEYS, report_dir=str(tmp_path / "reports"))
    seed(made)
    return made


def report(client, key: str, **params) -> dict:
    response = client.get(
        REPORT, params={"start": "2026-11-20", "end": "2026-11-22", **params}, headers=headers(key)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_json_summary_for_the_keys_tenant(client, keys):
    body = report(client, keys["engineer"])
    assert body["filters"] == {
        "start": "2026-11-20T00:00:00+00:00",
        "end": "2026-11-22T00:00:00+00:00",
        "tenant": "tenant-a",
        "v1_version": None,
        "v2_version": None,
    }
    summary = body["summary"]
    assert summary["status"] == "ok" and summary["n_rows"] == 78 and summary["n_schema_errors"] == 1
    assert summary["n_pairs"] == 76 and summary["n_evaluations"] == 77
    assert summary["matching_rate"] == pytest.approx(41 / 76)
    assert summary["fail_ratio"] == pytest.approx(1 / 77)


def test_date_filters_are_half_open_and_accept_datetimes(client, keys):
    day2 = report(client, keys["auditor"], start="2026-11-21", end="2026-11-22")["summary"]
    assert day2["n_pairs"] == 35 and day2["matching_rate"] == 0.0 and day2["delta_p50"] > 0
    early = report(client, keys["auditor"], start="2026-11-20T00:00:00Z", end="2026-11-20T00:10:00+00:00")
    assert early["summary"]["n_rows"] == 10 and early["summary"]["status"] == "no_data"
    naive = report(client, keys["auditor"], start="2026-11-20T00:00:00", end="2026-11-20T00:10:00")
    assert naive["summary"]["n_rows"] == 10


def test_version_filters(client, keys):
    v2a = report(client, keys["engineer"], v2_version="v2-a")["summary"]
    assert v2a["n_pairs"] == 41 and v2a["matching_rate"] == 1.0
    other = report(client, keys["engineer"], v1_version="v1-other")
    assert other["summary"]["n_rows"] == 1 and other["filters"]["v1_version"] == "v1-other"
    assert (
        report(client, keys["engineer"], v1_version="v1-m5-frozen", v2_version="v2-b")["summary"]["n_pairs"]
        == 35
    )


def test_empty_range_is_no_data_never_a_perfect_match(client, keys):
    summary = report(client, keys["engineer"], start="2026-10-01", end="2026-10-02")["summary"]
    assert summary["status"] == "no_data" and summary["n_pairs"] == 0 and summary["n_rows"] == 0
    assert summary["matching_rate"] is None and summary["fail_ratio"] is None and summary["delta_p50"] is None


def test_tenant_scoping(client, keys):
    assert report(client, keys["admin"])["summary"]["n_rows"] == 78 + 32
    assert report(client, keys["admin"])["filters"]["tenant"] is None
    only_b = report(client, keys["admin"], tenant="tenant-b")
    assert only_b["summary"]["n_rows"] == 32 and only_b["filters"]["tenant"] == "tenant-b"
    assert report(client, keys["other_tenant"])["summary"]["n_rows"] == 32
    assert report(client, keys["engineer"], tenant="tenant-a")["summary"]["n_rows"] == 78
    denied = client.get(
        REPORT,
        params={"start": "2026-11-20", "end": "2026-11-22", "tenant": "tenant-b"},
        headers=headers(keys["engineer"]),
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "tenant_mismatch"


def test_auth(client, keys):
    params = {"start": "2026-11-20", "end": "2026-11-22"}
    assert client.get(REPORT, params=params).status_code == 401
    denied = client.get(REPORT, params=params, headers=headers(keys["service"]))
    assert denied.status_code == 403
    assert denied.json()["error"]["details"] == {"missing_permission": "report:read", "role": "service"}


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-11-22", "end": "2026-11-22"},
        {"start": "2026-11-22", "end": "2026-11-20"},
        {"start": "2026-08-20", "end": "2026-11-22"},
        {"start": "yesterday", "end": "2026-11-22"},
        {"start": "2026-11-20", "end": "2026-11-22", "format": "xlsx"},
        {"start": "2026-11-20"},
    ],
)
def test_invalid_requests_are_422(client, keys, params):
    response = client.get(REPORT, params=params, headers=headers(keys["engineer"]))
    assert response.status_code == 422 and response.json()["error"]["code"] in {
        "invalid_range",
        "invalid_request",
    }


def test_93_days_is_allowed(client, keys):
    assert report(client, keys["engineer"], start="2026-08-21", end="2026-11-22")["summary"]["n_rows"] == 78


def test_csv_streams_every_pair(client, keys):
    response = client.get(
        REPORT,
        params={"start": "2026-11-20", "end": "2026-11-22", "format": "csv"},
        headers=headers(keys["engineer"]),
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    first, _, rest = response.text.partition("\n")
    assert json.loads(first.removeprefix(CSV_PREFIX))["n_rows"] == 78
    frame = pd.read_csv(io.StringIO(rest))
    assert len(frame) == 77 and set(frame["tenant_id"]) == {"tenant-a"}
    assert frame["matched"].sum() == 41


def test_jsonl_streams_summary_then_pairs(client, keys):
    response = client.get(
        REPORT,
        params={"start": "2026-11-21", "end": "2026-11-22", "format": "jsonl"},
        headers=headers(keys["engineer"]),
    )
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["summary"]["n_pairs"] == 35 and len(lines) == 36
    assert all(line["v2_version"] == "v2-b" and line["matched"] is False for line in lines[1:])


def test_parquet_carries_the_summary(client, keys):
    response = client.get(
        REPORT,
        params={"start": "2026-11-20", "end": "2026-11-22", "format": "parquet", "tenant": "tenant-b"},
        headers=headers(keys["admin"]),
    )
    assert response.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(response.content))
    assert table.num_rows == 32 and json.loads(table.schema.metadata[SUMMARY_KEY])["matching_rate"] == 1.0


def test_real_simulate_calls_show_up(make_client, keys):
    client = make_client()
    for _ in range(3):
        assert (
            client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).status_code == 200
        )
    provenance_rows(client)  # flushes the shadow recorder
    today = datetime.now(UTC).date()
    summary = report(client, keys["engineer"], start=str(today), end=str(today + timedelta(days=1)))[
        "summary"
    ]
    assert summary["n_rows"] == 3 and summary["n_evaluations"] == 3 and summary["status"] == "no_data"
    assert summary["fail_ratio"] == 0.0


# --- signed report files -------------------------------------------------------------------------

NAME = report_file_name("2026-11-20", "csv")


@pytest.fixture
def report_file(tmp_path):
    path = tmp_path / "reports" / "2026-11-20" / NAME
    path.parent.mkdir(parents=True)
    path.write_text("# summary: {}\nprovenance_id\n")
    (tmp_path / "reports" / "secret.txt").write_text("not a report")
    return path


def url(name: str = NAME, ttl_s: int = 600) -> str:
    return signed_report_url(parse_signing_keys(SIGNING_KEYS), "", name, ttl_s)


def test_signed_url_serves_the_file(client, report_file):
    response = client.get(url())
    assert response.status_code == 200 and response.text == report_file.read_text()
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(
    "link",
    [
        lambda: url(ttl_s=-5),  # expired
        lambda: url().replace("sig=", "sig=0"),  # altered signature
        lambda: url().replace("expires=", "expires=9"),  # altered expiry
        lambda: url().replace(NAME, report_file_name("2026-11-21", "csv")),  # signed for another file
        lambda: url().replace("kid=k1", "kid=k2"),  # unknown key
        lambda: url().split("?")[0],  # unsigned
        lambda: url("%2e%2e%2Fsecret.txt"),  # traversal, even if signed
        lambda: url("..%2Fsecret.txt"),
        lambda: url("2026-11-20\\" + NAME),
    ],
)
def test_every_bad_link_gets_the_same_403(client, report_file, link):
    response = client.get(link())
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "forbidden", "message": "the link is invalid or has expired", "details": None}
    }


def test_signed_name_that_is_not_a_report_is_404(client, report_file):
    assert client.get(url("secret.txt")).status_code == 404


def test_no_signing_keys_means_no_downloads(make_client, tmp_path, report_file):
    client = make_client(report_dir=str(tmp_path / "reports"))
    assert client.get(url()).status_code == 403
