"""Validation metrics, verdicts per dataset and version, and the overall M6 verdict (thin: the
metrics, verdicts and reports are pure functions in `validation/`)."""

import json

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_json, write_text
from costsim_assets.defs import keys
from costsim_assets.defs.keys import VERSIONS
from costsim_assets.defs.resources import ArtifactStoreResource, ReferenceDataResource, StoreResource
from costsim_assets.reference_data.build import DATASET_NAMES, HISTORICAL
from costsim_assets.reference_data.historical import HISTORICAL_MODEL
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.statistics.percentiles import json_safe
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.validation_reports import record_validation_report
from costsim_assets.training.folds import fold_summary, rolling_origin_folds
from costsim_assets.training.observations import historical_observations
from costsim_assets.validation.metrics import versions_metrics
from costsim_assets.validation.report import dataset_report_markdown, overall_report_markdown
from costsim_assets.validation.verdict import Verdict, dataset_verdict, overall_verdict
from costsim_assets.version import code_version

EVALUATED_SPLITS = ("eval", "heldout")


def _evaluated(frame: pd.DataFrame, record_ids: pd.Series) -> pd.DataFrame:
    return frame[frame["record_id"].isin(record_ids)].reset_index(drop=True)


def time_ordered_folds(records: pd.DataFrame, model: V2Model) -> list[dict]:
    """Rolling-origin folds over the historical records (refits on each fold's past only)."""
    observations = historical_observations(records, HISTORICAL_MODEL)
    folds = rolling_origin_folds(observations, prices=model.prices, priors=load_priors())
    return [json_safe(fold_summary(fold)) for fold in folds]


def build_metrics_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.metrics(name),
        group_name="validation",
        kinds={"json"},
        deps=[*(keys.simulation(name, v) for v in VERSIONS), keys.MODEL],
        description=f"V1 and V2 on {name} (held-out rows only for historical): output tokens per LLM step "
        "and cost per plan, each beside the naive baselines with V2's skill; duration reported as modelled.",
    )
    def _metrics(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
        dataset = pd.read_parquet(artifacts.dataset_file(name), columns=["record_id", "split"])
        evaluated = dataset.loc[dataset["split"].isin(EVALUATED_SPLITS), "record_id"]
        outputs = {
            v: _evaluated(pd.read_parquet(artifacts.outputs_file(name, v)), evaluated) for v in VERSIONS
        }
        model = artifacts.v2_model()
        used = set(outputs["v2"]["version"])
        if used - {model.version}:
            raise dg.Failure(
                f"{name}: V2 outputs come from {sorted(used)}, the model asset is {model.version}"
            )
        metrics = versions_metrics(
            outputs,
            _evaluated(pd.read_parquet(artifacts.step_predictions_file(name)), evaluated),
            _evaluated(pd.read_parquet(artifacts.dataset_steps_file(name)), evaluated),
            len(evaluated),
            model,
            duration_truth="none" if name == HISTORICAL else "modelled",
        )
        if name == HISTORICAL:
            metrics["v2"]["time_ordered_folds"] = time_ordered_folds(
                pd.read_parquet(artifacts.dataset_file(name)), model
            )
        path = write_json(artifacts.metrics_file(name), metrics)
        tokens = metrics["v2"]["output_tokens"] or {}
        context.log.info(
            f"{name}: V2 output-token MAE {tokens.get('mae')}, best naive {tokens.get('best_baseline')}"
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(path)),
                "model_version": model.version,
                "metrics": dg.MetadataValue.json(metrics),
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
                **headline_metadata(metrics["v2"]),
                "report_json": dg.MetadataValue.path(str(json_path)),
                "report_md": dg.MetadataValue.path(str(md_path)),
                "report": dg.MetadataValue.md(markdown),
            }
        )

    return _verdict


def headline_metadata(v2: dict) -> dict:
    """V2's output-token and cost figures beside the best naive baseline, for the UI's overview."""
    tokens, cost = v2.get("output_tokens") or {}, v2["cost"]
    best = tokens.get("best_baseline")
    figures = {
        "v2_output_token_mae": tokens.get("mae"),
        "best_naive_baseline": best,
        "best_naive_output_token_mae": tokens["baselines"][best]["mae"] if best else None,
        "v2_skill_over_best_naive": tokens["skill"][best]["skill"] if best else None,
        "v2_output_token_coverage": (tokens.get("interval") or {}).get("rate"),
        "v2_cost_wape": cost.get("wape"),
        "duration": "latency modelled, not validated",
    }
    return {key: value for key, value in figures.items() if value is not None}


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
    description="The overall M6 validation verdict: V2 must pass on all five datasets and beat the best "
    "naive baseline on held-out real (historical) traffic.",
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
    verdict = overall_verdict(v2_verdicts, reports[HISTORICAL]["versions"]["v2"]["metrics"], DATASET_NAMES)
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
