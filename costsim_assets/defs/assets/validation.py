"""Validation metrics, verdicts per dataset and version, and the overall M6 verdict."""

import json

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_json, write_text
from costsim_assets.defs import keys
from costsim_assets.defs.keys import VERSIONS
from costsim_assets.defs.resources import ArtifactStoreResource, ReferenceDataResource, StoreResource
from costsim_assets.reference_data.build import DATASET_NAMES, HISTORICAL
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.validation_reports import record_validation_report
from costsim_assets.validation.metrics import dataset_metrics
from costsim_assets.validation.report import dataset_report_markdown, overall_report_markdown
from costsim_assets.validation.verdict import Verdict, dataset_verdict, overall_verdict
from costsim_assets.version import code_version

EVALUATED_SPLITS = ("eval", "heldout")


def build_metrics_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.metrics(name),
        group_name="validation",
        kinds={"json"},
        deps=[keys.simulation(name, v) for v in VERSIONS],
        description=f"Error metrics of V1 and V2 on {name} (held-out rows only for historical).",
    )
    def _metrics(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
        dataset = pd.read_parquet(artifacts.dataset_file(name), columns=["record_id", "split"])
        evaluated = dataset[dataset["split"].isin(EVALUATED_SPLITS)]
        metrics = {}
        for version in VERSIONS:
            outputs = pd.read_parquet(artifacts.outputs_file(name, version))
            outputs = outputs[outputs["record_id"].isin(evaluated["record_id"])]
            metrics[version] = dataset_metrics(outputs, len(evaluated))
        path = write_json(artifacts.metrics_file(name), metrics)
        model_versions = _model_versions(artifacts, name)
        context.log.info(
            f"{name}: metrics of {model_versions} on {len(evaluated)} evaluated records "
            f"(splits {', '.join(EVALUATED_SPLITS)})"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "metrics": dg.MetadataValue.json(metrics),
                "model_version": model_versions["v2"],
            }
        )

    return _metrics


def build_verdict_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.verdict(name),
        group_name="validation",
        kinds={"json"},
        deps=[keys.metrics(name)],
        description=f"pass/warn/fail verdict with reasons for V1 and V2 on {name}; persisted as a "
        "store row and JSON + Markdown report files.",
    )
    def _verdict(
        context: dg.AssetExecutionContext,
        artifacts: ArtifactStoreResource,
        reference_data: ReferenceDataResource,
        store: StoreResource,
    ) -> dg.MaterializeResult:
        metrics = json.loads(artifacts.metrics_file(name).read_text())
        thresholds = reference_data.thresholds()
        verdicts = {v: dataset_verdict(metrics[v], thresholds) for v in VERSIONS}
        report = {
            "dataset": name,
            "versions": {v: {"metrics": metrics[v], **verdicts[v].to_dict()} for v in VERSIONS},
        }
        json_path = write_json(artifacts.report_file(f"{name}_validation", "json"), report)
        markdown = dataset_report_markdown(name, metrics, verdicts)
        md_path = write_text(artifacts.report_file(f"{name}_validation", "md"), markdown)
        model_versions = _model_versions(artifacts, name)
        run_id = context.run.run_id
        with store.engine().begin() as conn:
            for version in VERSIONS:
                record_validation_report(
                    conn,
                    dataset=name,
                    version=version,
                    model_version=model_versions[version],
                    code_version=code_version(),
                    verdict=verdicts[version].verdict,
                    reasons=verdicts[version].reasons,
                    metrics=metrics[version],
                    report_json_path=str(json_path),
                    report_md_path=str(md_path),
                    run_id=run_id,
                )
                append_status(
                    conn,
                    tenant_id=SYSTEM_TENANT,
                    entity_type="validation_verdict",
                    entity_id=f"{name}/{version}",
                    old_status=None,
                    new_status=verdicts[version].verdict,
                    actor_type="dagster_run",
                    actor_id=run_id,
                    reason="; ".join(verdicts[version].reasons)[:2000],
                    correlation_id=run_id,
                    metadata={"model_version": model_versions[version]},
                )
        for version in VERSIONS:
            context.log.info(
                f"{name} {version} ({model_versions[version]}): {verdicts[version].verdict}; "
                f"{'; '.join(verdicts[version].reasons)}"
            )
        return dg.MaterializeResult(
            metadata={
                "model_version": model_versions["v2"],
                "v1_verdict": verdicts["v1"].verdict,
                "v2_verdict": verdicts["v2"].verdict,
                "report_json": dg.MetadataValue.path(str(json_path)),
                "report_md": dg.MetadataValue.path(str(md_path)),
                "report": dg.MetadataValue.md(markdown),
            }
        )

    return _verdict


def _model_versions(artifacts: ArtifactStoreResource, name: str) -> dict[str, str]:
    return {
        v: str(
            pd.read_parquet(artifacts.outputs_file(name, v), columns=["version"])["version"]
            .iloc[:1]
            .squeeze()
            or ""
        )
        for v in VERSIONS
    }


@dg.asset(
    key=keys.M6_VERDICT,
    group_name="validation",
    kinds={"json"},
    deps=[keys.verdict(name) for name in DATASET_NAMES],
    description="The overall M6 validation verdict: V2 must pass on all five datasets and beat V1 "
    "on real (historical) traffic.",
)
def m6_verdict(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
    reports = {
        name: json.loads(artifacts.report_file(f"{name}_validation", "json").read_text())
        for name in DATASET_NAMES
    }
    v2_verdicts = {
        name: Verdict(r["versions"]["v2"]["verdict"], r["versions"]["v2"]["reasons"])
        for name, r in reports.items()
    }
    historical = {v: reports[HISTORICAL]["versions"][v]["metrics"] for v in VERSIONS}
    verdict = overall_verdict(v2_verdicts, historical, DATASET_NAMES)
    markdown = overall_report_markdown(verdict, reports)
    json_path = write_json(artifacts.report_file("m6_validation", "json"), verdict.to_dict())
    md_path = write_text(artifacts.report_file("m6_validation", "md"), markdown)
    model_version = _model_versions(artifacts, HISTORICAL)["v2"]
    context.log.info(f"M6 verdict for V2 {model_version}: {verdict.verdict}; {'; '.join(verdict.reasons)}")
    return dg.MaterializeResult(
        metadata={
            "model_version": model_version,
            "verdict": verdict.verdict,
            "report_json": dg.MetadataValue.path(str(json_path)),
            "report_md": dg.MetadataValue.path(str(md_path)),
            "report": dg.MetadataValue.md(markdown),
        }
    )
