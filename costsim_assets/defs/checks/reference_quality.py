"""Blocking Great Expectations checks on every reference dataset."""

import dagster as dg
import pandas as pd

from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.quality.expectations import validate_reference_frame


def build_reference_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=keys.reference(name),
        name="great_expectations_suite",
        blocking=True,
        description="Schema and value ranges (GX 1.x); a failure stops simulations on it.",
    )
    def _check(artifacts: ArtifactStoreResource) -> dg.AssetCheckResult:
        outcomes = validate_reference_frame(pd.read_parquet(artifacts.dataset_file(name)), name)
        failed = [o for o in outcomes if not o.success]
        table = "\n".join(
            ["| expectation | column | ok | unexpected rows | detail |", "|---|---|---|---|---|"]
            + [
                f"| {o.expectation} | {o.column or ''} | {o.success} | {o.unexpected_count} | "
                f"{o.detail[:80]} |"
                for o in outcomes
            ]
        )
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "failed_expectations": len(failed),
                "unexpected_rows": sum(o.unexpected_count for o in failed),
                "expectations": dg.MetadataValue.md(table),
            },
        )

    return _check
