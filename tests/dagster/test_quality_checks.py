"""Great Expectations suites: a schema mismatch is a failed blocking check with rows counted."""

import dagster as dg
import numpy as np
import pandas as pd

from costsim_assets.artifacts.files import write_parquet
from costsim_assets.defs.checks.reference_quality import build_reference_check
from costsim_assets.quality.expectations import validate_reference_frame
from costsim_assets.reference_data.build import build_synthetic
from costsim_assets.reference_data.task_types import OutputLengthPool
from costsim_assets.simulator.prices import load_price_table

NO_LLM_POOL = OutputLengthPool((np.array([8.0]), np.array([13.0]), np.array([40.0])), "unused")


def broken_frame() -> pd.DataFrame:
    """low_variance has no LLM call, so a stand-in output-length pool changes nothing."""
    frame = build_synthetic("low_variance", load_price_table(), NO_LLM_POOL).records.head(50).copy()
    frame.loc[:6, "actual_cost_cents"] = -1.0
    frame.loc[:2, "region"] = "mars"
    return frame.drop(columns=["split"]).assign(extra=1)


def test_offending_rows_are_counted_per_expectation():
    outcomes = {
        (o.expectation, o.column): o for o in validate_reference_frame(broken_frame(), "low_variance")
    }
    assert not outcomes[("expect_table_columns_to_match_set", None)].success
    assert outcomes[("expect_column_values_to_be_between", "actual_cost_cents")].unexpected_count == 7
    assert outcomes[("expect_column_values_to_be_in_set", "region")].unexpected_count == 3
    assert outcomes[("expect_column_values_to_be_unique", "record_id")].success


def test_the_blocking_check_fails_with_counts(sqlite_resources):
    artifacts = sqlite_resources["artifacts"]
    write_parquet(artifacts.dataset_file("low_variance"), broken_frame())
    check = build_reference_check("low_variance")
    assert check.check_specs_by_output_name and list(check.check_specs)[0].blocking
    result = check(artifacts=artifacts)
    assert isinstance(result, dg.AssetCheckResult) and not result.passed
    assert result.metadata["unexpected_rows"].value == 10
    assert result.metadata["failed_expectations"].value == 4  # columns, cost, region, missing split
