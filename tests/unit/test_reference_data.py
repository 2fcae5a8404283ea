"""Reference datasets: seeded, noise surfaces as counted schema errors, real anonymization."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from costsim_assets.reference_data.build import (
    STEP_COLUMNS,
    SYNTHETIC_SPECS,
    build_synthetic,
    content_sha256,
    finish_historical,
    historical_dataset,
    parse_plans,
)
from costsim_assets.reference_data.historical import (
    TRACE_SHA256,
    HistoricalSourceError,
    anonymize,
    assert_anonymized,
    historical_records,
    parse_trace,
    read_trace_bytes,
)
from costsim_assets.reference_data.task_types import output_length_pool
from costsim_assets.simulator.prices import load_price_table

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


@pytest.fixture(scope="module")
def trace() -> pd.DataFrame:
    return parse_trace(read_trace_bytes(TRACE))


@pytest.fixture(scope="module")
def pool(trace):
    return output_length_pool(trace, "test")


@pytest.fixture(scope="module")
def noise(pool) -> pd.DataFrame:
    return build_synthetic("noise_injected", load_price_table(), pool).records


def test_same_seed_same_rows(pool):
    prices = load_price_table()
    first, second = (build_synthetic("high_variance", prices, pool) for _ in range(2))
    assert content_sha256(first.records) == content_sha256(second.records)
    assert content_sha256(first.steps) == content_sha256(second.steps)


def test_every_synthetic_dataset_has_plan_and_step_ground_truth(pool):
    prices = load_price_table()
    for name, spec in SYNTHETIC_SPECS.items():
        dataset = build_synthetic(name, prices, pool)
        frame, steps = dataset.records, dataset.steps
        valid = frame["actual_cost_cents"].notna()
        assert len(frame) == spec.rows and (frame.loc[valid, "actual_duration_ms"] > 0).all()
        assert list(steps.columns) == list(STEP_COLUMNS) and set(steps["record_id"]) == set(
            frame.loc[valid, "record_id"]
        )
        by_plan = steps.groupby("record_id")["cost_cents"].sum()
        assert by_plan.to_numpy() == pytest.approx(
            frame.set_index("record_id").loc[by_plan.index, "actual_cost_cents"]
        )
        llm = steps["skill"] == "llm_invoke"
        assert set(steps.loc[llm, "task_type"]) <= {"completion", "function", "generation"}
        assert "output_lengths" in dataset.sources


def test_malformed_records_become_counted_schema_errors_and_are_kept(noise):
    _, valid, invalid = parse_plans(noise["plan_json"].tolist())
    broken = noise["noise"].isin(["missing_field", "out_of_range", "malformed"])
    assert (~valid).sum() == broken.sum() > 100
    assert set(noise.loc[~valid, "noise"]) == {"missing_field", "out_of_range", "malformed"}
    assert noise.loc[~valid, "actual_cost_cents"].isna().all()
    assert len(noise) == SYNTHETIC_SPECS["noise_injected"].rows  # nothing dropped
    assert {row for row, _ in invalid} == set(np.flatnonzero(~valid))


def test_historical_anonymization(trace):
    anonymized = anonymize(trace, "salt-1")
    assert len(anonymized) == 8819
    assert (anonymized["ts"].dt.minute == 0).all()
    raw = set(trace["TIMESTAMP"])
    assert not raw & set(anonymized["record_id"])
    assert anonymized["record_id"].is_unique
    assert set(anonymize(trace, "salt-2")["record_id"]).isdisjoint(anonymized["record_id"])
    assert anonymized["split"].value_counts().to_dict() == {"train": 6173, "heldout": 2646}
    assert (anonymized["split"].iloc[:6173] == "train").all()  # the earliest 70 % by time


def test_anonymization_check_catches_a_leaked_timestamp(trace):
    leaked = anonymize(trace, "s").assign(record_id=trace["TIMESTAMP"])
    with pytest.raises(HistoricalSourceError, match="raw timestamp survived"):
        assert_anonymized(leaked, trace)


def test_historical_ground_truth_is_real_tokens_times_list_price_and_no_duration(trace):
    frame = finish_historical(historical_records(anonymize(trace, "s"), load_price_table()))
    first = frame.iloc[0]
    assert first["actual_cost_cents"] == pytest.approx((4808 * 2.5 + 10 * 10.0) / 1e4)
    assert '"prompt_tokens":4808' in first["plan_json"]
    assert frame["actual_duration_ms"].isna().all()  # the trace measured no latency
    steps = historical_dataset(frame, "sha").steps
    assert steps["output_tokens"].tolist() == frame["generated_tokens"].tolist()
    assert steps["latency_ms"].isna().all()


def test_missing_or_wrong_source_names_the_setting(tmp_path):
    with pytest.raises(HistoricalSourceError, match="COSTSIM_HISTORICAL_SOURCE"):
        read_trace_bytes(str(tmp_path / "absent.csv"))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n")
    with pytest.raises(HistoricalSourceError, match=TRACE_SHA256) as error:
        read_trace_bytes(str(wrong))
    assert "COSTSIM_HISTORICAL_SHA256" in str(error.value)
    assert read_trace_bytes(str(wrong), hashlib.sha256(wrong.read_bytes()).hexdigest().upper())
    with pytest.raises(HistoricalSourceError, match="not readable"):
        read_trace_bytes("http://127.0.0.1:9/trace.csv")


@pytest.mark.parametrize(
    "text",
    [
        "TIMESTAMP,ContextTokens\n2023-11-16 18:17:03,10\n",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03,10,-4\n",
        "TIMESTAMP,ContextTokens,GeneratedTokens\nnot a time,10,4\n",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n",
    ],
)
def test_a_trace_not_in_the_azure_format_is_refused(text):
    with pytest.raises(HistoricalSourceError, match="Azure.format"):
        parse_trace(text.encode())


def test_parse_trace_sorts_by_time():
    text = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:05,1,7\n2023-11-16 18:17:03,2,8\n"
    assert parse_trace(text.encode())["ContextTokens"].tolist() == [2, 1]
