"""The pure divergence report: same statistics as the canary, honest no_data, lossless writers."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from costsim_assets.reports.divergence import (
    CSV_PREFIX,
    divergence_summary_for,
    locate_report_file,
    pair_rows,
    read_parquet_summary,
    report_file_name,
    write_report,
)
from costsim_assets.statistics.divergence import divergence_summary

REL, ABS = 0.05, 0.01
T0 = datetime(2026, 11, 20, tzinfo=UTC)


def row(i: int, v1: float | None, v2: float | None, status: str = "ok", tenant: str = "tenant-a") -> dict:
    return {
        "id": f"p{i}",
        "created_at": T0 + timedelta(minutes=i),
        "tenant_id": tenant,
        "request_id": f"r{i}",
        "input_hash": f"h{i}",
        "v1_version": "v1-m5-frozen",
        "v2_version": "v2-test",
        "v1_output_hash": f"a{i}",
        "v2_output_hash": f"b{i}" if v2 is not None else None,
        "v1_cost_cents": v1,
        "v2_cost_cents": v2,
        "v2_status": status,
    }


def fixed_rows() -> list[dict]:
    rng = np.random.default_rng(7)
    v1 = rng.uniform(10, 100, 60)
    v2 = v1 * rng.uniform(0.9, 1.1, 60)
    rows = [row(i, float(a), float(b)) for i, (a, b) in enumerate(zip(v1, v2, strict=True))]
    rows += [
        row(60, 12.0, None, "error"),
        row(61, 15.0, None, "timeout"),
        row(62, None, None, "schema_error"),
        row(63, 14.0, None, "skipped"),
    ]
    return rows


def test_summary_is_the_statistics_module_on_the_same_pairs():
    rows = fixed_rows()
    summary = divergence_summary_for(rows, REL, ABS)
    kept = rows[:62]
    expected = divergence_summary(
        np.array([r["v1_cost_cents"] for r in kept], dtype=float),
        np.array([r["v2_cost_cents"] for r in kept], dtype=float),
        np.array([r["v2_status"] != "ok" for r in kept]),
        REL,
        ABS,
    ).to_dict()
    assert {k: summary[k] for k in expected} == expected
    assert summary["status"] == "ok" and summary["n_pairs"] == 60 and summary["n_evaluations"] == 62
    assert summary["n_rows"] == 64 and summary["n_schema_errors"] == 1 and summary["n_v2_skipped"] == 1
    assert summary["fail_ratio"] == pytest.approx(2 / 62)  # V2 skipped is not V2 failing


def test_pairs_exclude_schema_errors_and_skipped_v2_and_mark_failures_unmatched():
    frame = pair_rows(fixed_rows(), REL, ABS)
    assert len(frame) == 62 and not {"schema_error", "skipped"} & set(frame["v2_status"])
    ok = frame[frame["v2_status"] == "ok"]
    assert np.allclose(ok["difference"], ok["v2_cost_cents"] - ok["v1_cost_cents"])
    expected = np.abs(ok["difference"]) <= ABS + REL * np.abs(ok["v1_cost_cents"])
    assert (ok["matched"] == expected).all()
    failed = frame[frame["v2_status"] != "ok"]
    assert failed["difference"].isna().all() and not failed["matched"].any()
    assert frame["matched"].mean() * 62 / 60 == pytest.approx(
        divergence_summary_for(fixed_rows(), REL, ABS)["matching_rate"]
    )


@pytest.mark.parametrize("rows", [[], [row(0, 1.0, 1.0)], [row(0, None, None, "schema_error")]])
def test_too_little_data_is_no_data_never_a_perfect_match(rows):
    summary = divergence_summary_for(rows, REL, ABS)
    assert summary["status"] == "no_data" and summary["n_pairs"] == len(
        [r for r in rows if r["v2_status"] == "ok"]
    )
    assert (
        summary["matching_rate"] is None and summary["delta_p50"] is None and summary["drift_score"] is None
    )
    assert summary["outlier_count"] is None


def test_empty_frame_keeps_its_columns():
    assert list(pair_rows([], REL, ABS).columns)[:3] == ["provenance_id", "created_at", "tenant_id"]


@pytest.fixture
def report():
    rows = fixed_rows()
    return pair_rows(rows, REL, ABS), divergence_summary_for(rows, REL, ABS)


def test_csv_round_trip(tmp_path, report):
    frame, summary = report
    path = write_report(frame, summary, tmp_path / "r.csv", "csv")
    first = path.read_text().splitlines()[0]
    assert first.startswith(CSV_PREFIX) and json.loads(first[len(CSV_PREFIX) :]) == summary
    back = pd.read_csv(path, skiprows=1)
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    assert np.allclose(back["difference"], frame["difference"], equal_nan=True)
    assert (back["matched"] == frame["matched"]).all()
    assert (pd.to_datetime(back["created_at"]) == frame["created_at"]).all()


def test_jsonl_round_trip(tmp_path, report):
    frame, summary = report
    lines = write_report(frame, summary, tmp_path / "r.jsonl", "jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"summary": summary}
    back = [json.loads(line) for line in lines[1:]]
    assert [r["provenance_id"] for r in back] == list(frame["provenance_id"])
    assert back[0]["difference"] == frame["difference"].iloc[0]
    assert back[-1]["v2_cost_cents"] is None and back[-1]["difference"] is None


def test_parquet_round_trip_carries_the_summary(tmp_path, report):
    frame, summary = report
    path = write_report(frame, summary, tmp_path / "r.parquet", "parquet")
    assert read_parquet_summary(path) == summary
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame, check_dtype=False)


def test_writes_are_atomic_and_formats_checked(tmp_path, report):
    frame, summary = report
    write_report(frame, summary, tmp_path / "r.csv", "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]  # no temporary file left behind
    with pytest.raises(ValueError, match="format"):
        write_report(frame, summary, tmp_path / "r.xlsx", "xlsx")


def test_locate_accepts_only_report_names(tmp_path):
    day_dir = tmp_path / "2026-11-20"
    day_dir.mkdir()
    name = report_file_name("2026-11-20", "csv")
    (day_dir / name).write_text("x")
    (tmp_path / "secret.txt").write_text("no")
    assert locate_report_file(tmp_path, name) == (day_dir / name).resolve()
    for bad in ("secret.txt", "../secret.txt", "divergence_2026-11-21.csv", "divergence_2026-11-20.exe"):
        assert locate_report_file(tmp_path, bad) is None
