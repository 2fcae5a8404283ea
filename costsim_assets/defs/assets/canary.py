"""The daily canary: the day's provenance sample, its drift/divergence analysis with the checks
of canary/checks.py (emitted by the asset; blocking ones stop the day's verdict), and the verdict."""

import json

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_json, write_parquet, write_text
from costsim_assets.canary.analysis import canary_statistics
from costsim_assets.canary.checks import CHECKS
from costsim_assets.canary.judgement import P1, P2, judge
from costsim_assets.canary.outcome_day import outcome_day, reference_profile
from costsim_assets.canary.report import canary_markdown, mismatching_pairs
from costsim_assets.canary.rerun import canary_day, rerun_sample
from costsim_assets.canary.sampling import partition_seed, stratified_sample
from costsim_assets.canary.tenants import tenant_views
from costsim_assets.canary.verdict import record_canary_verdict, record_tenant_verdicts
from costsim_assets.defs import keys
from costsim_assets.defs.partitions import DAILY, partition_day_bounds
from costsim_assets.defs.resources import ArtifactStoreResource, CanaryResource, StoreResource
from costsim_assets.reference_data.build import DATASET_NAMES, HISTORICAL
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.statistics.percentiles import json_safe
from costsim_assets.store.canary_results import record_canary_result
from costsim_assets.store.outcomes import outcome_steps_of
from costsim_assets.store.provenance import decompress, query_provenance
from costsim_assets.validation.evaluate import simulate
from costsim_assets.validation.metrics import dataset_metrics

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
    key=keys.CANARY_SAMPLE,
    partitions_def=DAILY,
    group_name="canary",
    kinds={"parquet"},
    deps=[keys.TRAFFIC_REPLAY],
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
    size = canary.config().sample_size
    sample = stratified_sample(frame, size, partition_seed(context.partition_key))
    plans = (decompress(z) for z in sample.pop("plan_z"))
    sample["plan_json"] = [plan if isinstance(plan, str) else json.dumps(plan) for plan in plans]
    with store.sandbox_engine().connect() as conn:
        steps = outcome_steps_of(conn, sample["id"].tolist())
    path = write_parquet(artifacts.canary_file(context.partition_key, "sample.parquet"), sample)
    write_parquet(artifacts.canary_file(context.partition_key, "sample_outcomes.parquet"), steps)
    with_outcomes = int(sample["id"].isin(steps["provenance_id"]).sum())
    versions = sorted(str(v) for v in sample["v2_version"].dropna().unique())
    context.log.info(
        f"{context.partition_key}: sampled {len(sample)} of {len(frame)} provenance rows (target {size}, "
        f"stratified by tenant over {sample['tenant_id'].nunique()} tenants), {with_outcomes} with outcomes; "
        f"V2 versions {versions}"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(sample),
            "day_rows": len(frame),
            "with_outcomes": with_outcomes,
            "path": dg.MetadataValue.path(str(path)),
            "model_version": ", ".join(versions),
        }
    )


def _check_results(checks: dict, partition_key: str, diff_path: str) -> list[dg.AssetCheckResult]:
    """One result per row of the checks table, carrying what the breach-response job needs."""
    return [
        dg.AssetCheckResult(
            check_name=check.name,
            asset_key=keys.CANARY_DRIFT,
            passed=checks[check.name]["outcome"] == "pass",
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "partition": partition_key,
                "priority": check.priority,
                "action": check.action,
                "threshold": checks[check.name]["threshold"],
                "value": checks[check.name]["value"],
                "outcome": checks[check.name]["outcome"],
                "detail": checks[check.name]["detail"],
                "moved": dg.MetadataValue.json(checks[check.name]["moved"]),
                "evidence": dg.MetadataValue.json(checks[check.name]["evidence"]),
                "diff_artifacts": dg.MetadataValue.path(diff_path),
            },
        )
        for check in CHECKS
    ]


def _golden(artifacts: ArtifactStoreResource, model: V2Model) -> dict[str, dict]:
    golden = {}
    for name in DATASET_NAMES:
        dataset = pd.read_parquet(artifacts.dataset_file(name))
        golden[name] = dataset_metrics(simulate(dataset, "v2", model), len(dataset))
    return golden


@dg.asset(
    key=keys.CANARY_DRIFT,
    partitions_def=DAILY,
    group_name="canary",
    kinds={"parquet", "json"},
    deps=[keys.CANARY_SAMPLE, keys.MODEL, *(keys.reference(n) for n in DATASET_NAMES)],
    check_specs=[
        dg.AssetCheckSpec(
            check.name,
            asset=keys.CANARY_DRIFT,
            blocking=check.blocking,
            description=f"{check.priority} ({check.action} on breach): {check.description}; "
            "thresholds in config/canary.yaml",
        )
        for check in CHECKS
    ],
    description="Judges V2 (the models/v2_model artifact, rerun on the sample) on the day's realized "
    "outcomes: calibration, bias, errors beside the naive baselines, what moved (P1, P2), per tenant "
    "too; as context V2 against V1 paired, drift against the golden reference, V2 on every golden "
    "dataset; mismatching pairs as diff artifacts.",
)
def canary_drift(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
) -> dg.MaterializeResult:
    day_key, config, model = context.partition_key, canary.config(), artifacts.v2_model()
    sample = pd.read_parquet(artifacts.canary_file(day_key, "sample.parquet"))
    steps = pd.read_parquet(artifacts.canary_file(day_key, "sample_outcomes.parquet"))
    v1, v2 = rerun_sample(sample, V2Evaluator(model))
    day = canary_day(sample, v1, v2, pd.read_parquet(artifacts.dataset_file(HISTORICAL)), model)
    realized = outcome_day(sample, steps, model)
    judged = judge(realized.steps, realized.requests, reference_profile(model), config.judgement)
    stats = json_safe(
        {
            **canary_statistics(day, judged, config),
            "performance": realized.performance,
            "tenants": tenant_views(sample, steps, model, config),
        }
    )
    golden = _golden(artifacts, model)
    diff_path = write_parquet(
        artifacts.canary_file(day_key, "diff_pairs.parquet"),
        mismatching_pairs(sample, day, v1, v2, config),
    )
    checks = _check_results(stats["checks"], day_key, str(diff_path))
    for name, outcome in stats["checks"].items():
        context.log.info(
            f"{day_key} {name} with V2 {model.version}: {outcome['outcome']}; {outcome['detail']}; "
            f"moved: {outcome['moved'] or 'nothing'}"
        )
    report_path = write_json(artifacts.canary_file(day_key, "canary.json"), {**stats, "golden": golden})
    rows = [
        (name, o["outcome"] == "pass", f"{o['outcome']}: {o['detail']}")
        for name, o in stats["checks"].items()
    ]
    markdown = canary_markdown(day_key, stats, rows, golden)
    write_text(report_path.with_suffix(".md"), markdown)
    realized_drift = stats["realized"]["movement"]["output_tokens_js"]
    with store.engine().begin() as conn:
        record_canary_result(
            conn,
            partition_key=day_key,
            run_id=context.run.run_id,
            status="no_data" if stats["checks"][P1]["outcome"] == "no_data" else "ok",
            sample_size=len(sample),
            drift_score=realized_drift,
            median_shift=stats["checks"][P2]["value"],
            schema_error_ratio=stats["schema_error_ratio"],
            statistics=stats,
            report_path=str(report_path),
            diff_path=str(diff_path),
        )
        record_tenant_verdicts(conn, day_key, stats["tenants"], model.version)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(sample),
            "model_version": model.version,
            "realized_output_drift": realized_drift,
            "p1": stats["checks"][P1]["outcome"],
            "moved": dg.MetadataValue.json(stats["realized"]["moved"]),
            "outcome_steps": stats["realized"]["outcome_steps"],
            "interval_coverage": stats["realized"]["calibration"]["interval_coverage"]["observed"],
            "report": dg.MetadataValue.md(markdown),
            "report_json": dg.MetadataValue.path(str(report_path)),
            "diff_artifacts": dg.MetadataValue.path(str(diff_path)),
        },
        check_results=checks,
    )


@dg.asset(
    key=keys.CANARY_VERDICT,
    partitions_def=DAILY,
    group_name="canary",
    deps=[keys.CANARY_DRIFT],
    description="The day's canary verdict (runs only when the blocking checks passed): a status "
    "history row, and re-enabling V2 after N consecutive passes when configured (that transition "
    "shows on routing/v2_state through the routing sensor).",
)
def canary_verdict(
    context: dg.AssetExecutionContext, store: StoreResource, canary: CanaryResource
) -> dg.MaterializeResult:
    reenable_after = canary.config().reenable_after_passes
    with store.engine().begin() as conn:
        outcome = record_canary_verdict(conn, context.partition_key, reenable_after)
    context.log.info(
        f"{context.partition_key}: canary pass, {outcome['consecutive_passes']} in a row; re-enable after "
        f"{reenable_after or 'never (a person decides)'}; re-enabled now: {outcome['reenabled']}"
    )
    return dg.MaterializeResult(metadata=outcome)
