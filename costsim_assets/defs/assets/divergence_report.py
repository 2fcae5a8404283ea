"""The daily cost divergence report: every V2-vs-V1 pair of the day's provenance (all tenants) as
CSV, JSON lines and Parquet plus a JSON summary, with signed API links when configured."""

from pathlib import Path

import dagster as dg

from costsim_assets.artifacts.files import write_json
from costsim_assets.defs import keys
from costsim_assets.defs.partitions import DAILY, partition_day_bounds
from costsim_assets.defs.resources import (
    ArtifactStoreResource,
    CanaryResource,
    ReportLinksResource,
    StoreResource,
)
from costsim_assets.reports.divergence import (
    FORMATS,
    REPORT_SUBDIR,
    divergence_summary_for,
    pair_rows,
    report_file_name,
    write_report,
)
from costsim_assets.store.provenance import query_provenance


def _file_metadata(files: dict[str, Path], links: ReportLinksResource) -> dict[str, dg.MetadataValue]:
    """A path per file, and a signed URL per file when the API's address and key are configured."""
    metadata = {f"{fmt}_path": dg.MetadataValue.path(str(path)) for fmt, path in files.items()}
    if links.enabled():
        metadata |= {f"{fmt}_url": dg.MetadataValue.url(links.url(path.name)) for fmt, path in files.items()}
    return metadata


@dg.asset(
    key=keys.DIVERGENCE_REPORT,
    partitions_def=DAILY,
    group_name="reports",
    kinds={"csv", "parquet", "json"},
    deps=[keys.TRAFFIC_REPLAY],
    description="The day's V2-vs-V1 cost divergence over all tenants, by the canary's statistics "
    "and tolerances: every pair as CSV, JSON lines and Parquet, plus a JSON summary; "
    "status no_data (values null) when the day has too few pairs. It reads provenance only, so "
    "a failed blocking canary check does not stop it.",
)
def divergence_report(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
    report_links: ReportLinksResource,
) -> dg.MaterializeResult:
    day = context.partition_key
    start, end = partition_day_bounds(day)
    with store.sandbox_engine().connect() as conn:
        rows = query_provenance(conn, tenant_id=None, start=start, end=end)
    config = canary.config()
    summary = divergence_summary_for(rows, config.matching_rel_tol, config.matching_abs_tol)
    frame = pair_rows(rows, config.matching_rel_tol, config.matching_abs_tol)
    directory = artifacts.path(*REPORT_SUBDIR, day)
    files = {
        fmt: write_report(frame, summary, directory / report_file_name(day, fmt), fmt) for fmt in FORMATS
    }
    files["summary"] = write_json(directory / report_file_name(day, "json"), summary)
    versions = sorted({str(row["v2_version"]) for row in rows if row.get("v2_version")})
    context.log.info(
        f"{day}: {len(frame)} V1/V2 pairs from {len(rows)} provenance rows (V2 versions {versions}); "
        f"status {summary.get('status')}, matching rate {summary.get('matching_rate')} within "
        f"rel {config.matching_rel_tol} / abs {config.matching_abs_tol} cents; "
        f"signed links: {report_links.enabled()}"
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": ", ".join(versions),
            "summary": dg.MetadataValue.json(summary),
            "dagster/row_count": len(frame),
            **_file_metadata(files, report_links),
        }
    )
