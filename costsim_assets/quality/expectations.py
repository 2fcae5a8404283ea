"""Great Expectations 1.x suites for the reference datasets (imported lazily: GX takes ~5 s)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from costsim_assets.reference_data.build import BASE_COLUMNS, HISTORICAL, HISTORICAL_COLUMNS
from costsim_assets.reference_data.synthetic import CITIES, NOISE_KINDS

REGIONS = sorted({region for region, *_ in CITIES.values()} | {"azure"})
MAX_COST_CENTS = 100_000.0
MAX_DURATION_MS = 24 * 3_600_000.0


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    detail: str


def _suite(gx, name: str):
    e = gx.expectations
    columns = list(HISTORICAL_COLUMNS if name == HISTORICAL else BASE_COLUMNS)
    suite = gx.ExpectationSuite(name=f"{name}_reference")
    for expectation in (
        e.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        e.ExpectColumnValuesToNotBeNull(column="record_id"),
        e.ExpectColumnValuesToBeUnique(column="record_id"),
        e.ExpectColumnValuesToNotBeNull(column="plan_json"),
        e.ExpectColumnValuesToNotBeNull(column="tenant_id"),
        e.ExpectColumnValuesToBeInSet(column="region", value_set=REGIONS),
        e.ExpectColumnValuesToBeInSet(column="noise", value_set=["", *NOISE_KINDS]),
        e.ExpectColumnValuesToBeBetween(column="actual_cost_cents", min_value=0, max_value=MAX_COST_CENTS),
        e.ExpectColumnValuesToBeBetween(column="actual_duration_ms", min_value=0, max_value=MAX_DURATION_MS),
        e.ExpectColumnValuesToBeInSet(column="split", value_set=["eval", "train", "heldout"]),
    ):
        suite.add_expectation(expectation)
    return suite


def validate_reference_frame(frame: pd.DataFrame, name: str) -> list[ExpectationOutcome]:
    """Run the dataset's suite; one outcome per expectation, offending rows counted."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("costsim")
        .add_dataframe_asset(name=name)
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(_suite(gx, name))
    return [
        ExpectationOutcome(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            success=bool(r.success),
            unexpected_count=int(r.result.get("unexpected_count") or 0),
            detail=str(r.result.get("details") or r.result.get("observed_value") or ""),
        )
        for r in result.results
    ]
