"""The daily canary: the day's provenance sample, its drift/divergence analysis with the P1/P2/P3
checks (emitted by the asset, P1 and P3 blocking), and the day's verdict."""

import json

import dagster as dg
import numpy as np
import pandas as pd

from costsim_assets.artifacts.files import write_json, write_parquet, write_text
from costsim_assets.canary.analysis import analyze
from costsim_assets.canary.report import canary_markdown, mismatching_pairs
from costsim_assets.canary.rerun import canary_day, rerun_sample
from costsim_assets.canary.sampling import partition_seed, stratified_sample
from costsim_assets.canary.verdict import record_canary_verdict
from costsim_assets.defs.partitions import DAILY, partition_day_bounds
from costsim_assets.defs.resources import ArtifactStoreResource, CanaryResource, StoreResource
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.statistics.percentiles import json_safe
from costsim_assets.store.canary_results import record_canary_result
from costsim_assets.store.provenance import decompress, query_provenance
from costsim_assets.validation.evaluate import simulate
from costsim_assets.validation.metrics import dataset_metrics

SAMPLE_KEY = dg.AssetKey(["canary", "sample"])
DRIFT_KEY = dg.AssetKey(["canary", "drift"])
CHECKS = {"drift_p1": ("P1", True), "median_shift_p2": ("P2", False), "schema_errors_p3": ("P3", True)}
SAMPLE_COLUMNS = (
    "id",
    "created_at",
    "tenant_id",
    "request_id",
    "input_hash",
    "v1_output_hash",
    "v2_output_hash",
    "v2_status",
    "v1_cost_cents",
    "v2_cost_cents",
    "v1_runtime_ms",
    "v2_runtime_ms",
    "v1_version",
    "v2_version",
)


@dg.asset(
    key=SAMPLE_KEY,
    partitions_def=DAILY,
    group_name="canary",
    kinds={"parquet"},
    deps=[dg.AssetKey(["sandbox", "traffic_replay"])],
    description="A stratified (by tenant) sample of the day's provenance, seeded by the partition "
    "key so a rerun draws the same rows; all rows when the day has fewer.",
)
def canary_sample(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
) -> dg.MaterializeResult:
    start, end = partition_day_bounds(context.partition_key)
    with store.sandbox_engine().connect() as conn:
        rows = query_provenance(conn, tenant_id=None, start=start, end=end)
    frame = (
        pd.DataFrame(rows, columns=[*SAMPLE_COLUMNS, "plan_z"])
        if rows
        else pd.DataFrame(columns=[*SAMPLE_COLUMNS, "plan_z"])
    )
    sample = stratified_sample(frame, canary.config().sample_size, partition_seed(context.partition_key))
    plans = (decompress(z) for z in sample.pop("plan_z"))
    sample["plan_json"] = [plan if isinstance(plan, str) else json.dumps(plan) for plan in plans]
    path = write_parquet(artifacts.path("canary", context.partition_key, "sample.parquet"), sample)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(sample),
            "day_rows": len(frame),
            "path": dg.MetadataValue.path(str(path)),
        }
    )


def _check_results(stats: dict, config, partition_key: str, diff_path: str) -> list[dg.AssetCheckResult]:
    values = {
        "drift_p1": (stats["drift_score"], config.p1_drift_score),
        "median_shift_p2": (stats["median_shift"], config.p2_median_shift),
        "schema_errors_p3": (stats["schema_error_ratio"], config.p3_schema_error_ratio),
    }
    results = []
    for name, (value, threshold) in values.items():
        priority, blocking = CHECKS[name]
        no_data = value is None or not np.isfinite(value)
        passed = (not no_data) and value <= threshold
        results.append(
            dg.AssetCheckResult(
                check_name=name,
                asset_key=DRIFT_KEY,
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
                metadata={
                    "partition": partition_key,
                    "priority": priority,
                    "threshold": threshold,
                    "value": None if no_data else float(value),
                    "outcome": "no_data" if no_data else ("pass" if passed else "breach"),
                    "diff_artifacts": dg.MetadataValue.path(diff_path),
                },
            )
        )
    return results


def _golden(artifacts: ArtifactStoreResource, model) -> dict[str, dict]:
    golden = {}
    for name in DATASET_NAMES:
        dataset = pd.read_parquet(artifacts.dataset_file(name))
        golden[name] = dataset_metrics(simulate(dataset, "v2", model), len(dataset))
    return golden


@dg.asset(
    key=DRIFT_KEY,
    partitions_def=DAILY,
    group_name="canary",
    kinds={"parquet", "json"},
    deps=[SAMPLE_KEY, *(dg.AssetKey(["reference", n]) for n in DATASET_NAMES)],
    check_specs=[
        dg.AssetCheckSpec(
            name, asset=DRIFT_KEY, blocking=blocking, description=f"{priority}: see config/canary.yaml"
        )
        for name, (priority, blocking) in CHECKS.items()
    ],
    description="Reruns V1 and V2 on the sample; pairwise V2-vs-V1 statistics, drift against the "
    "golden reference, V2 on every golden dataset; mismatching pairs as diff artifacts.",
)
def canary_drift(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
) -> dg.MaterializeResult:
    day_key, config, model = context.partition_key, canary.config(), load_v2_model()
    sample = pd.read_parquet(artifacts.path("canary", day_key, "sample.parquet"))
    v1, v2 = rerun_sample(sample, V2Evaluator(model))
    day = canary_day(sample, v1, v2, pd.read_parquet(artifacts.dataset_file("historical")), model)
    stats = json_safe(analyze(day, config))
    golden = _golden(artifacts, model)
    diff_path = write_parquet(
        artifacts.path("canary", day_key, "diff_pairs.parquet"),
        mismatching_pairs(sample, day, v1, v2, config),
    )
    checks = _check_results(stats, config, day_key, str(diff_path))
    report_path = write_json(artifacts.path("canary", day_key, "canary.json"), {**stats, "golden": golden})
    markdown = canary_markdown(
        day_key, stats, [(c.check_name, c.passed, c.metadata["outcome"].value) for c in checks], golden
    )
    write_text(report_path.with_suffix(".md"), markdown)
    with store.engine().begin() as conn:
        record_canary_result(
            conn,
            partition_key=day_key,
            run_id=context.run_id,
            status=stats["status"],
            sample_size=len(sample),
            drift_score=stats["drift_score"],
            median_shift=stats["median_shift"],
            schema_error_ratio=stats["schema_error_ratio"],
            statistics=stats,
            report_path=str(report_path),
            diff_path=str(diff_path),
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(sample),
            "drift_score": stats["drift_score"],
            "median_shift": stats["median_shift"],
            "report": dg.MetadataValue.md(markdown),
            "report_json": dg.MetadataValue.path(str(report_path)),
            "diff_artifacts": dg.MetadataValue.path(str(diff_path)),
        },
        check_results=checks,
    )


@dg.asset(
    key=["canary", "verdict"],
    partitions_def=DAILY,
    group_name="canary",
    deps=[DRIFT_KEY],
    description="The day's canary verdict (runs only when the blocking checks passed): a status "
    "history row, and re-enabling V2 after N consecutive passes when configured.",
)
def canary_verdict(
    context: dg.AssetExecutionContext, store: StoreResource, canary: CanaryResource
) -> dg.MaterializeResult:
    with store.engine().begin() as conn:
        outcome = record_canary_verdict(conn, context.partition_key, canary.config().reenable_after_passes)
    return dg.MaterializeResult(metadata=outcome)
