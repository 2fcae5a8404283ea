"""Reference (golden) dataset assets: build, validate plans, keep schema errors, write manifest."""

import hashlib

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_json, write_parquet
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource, ReferenceDataResource, StoreResource
from costsim_assets.reference_data.build import (
    HISTORICAL,
    SYNTHETIC_SPECS,
    ReferenceDataset,
    build_synthetic,
    content_sha256,
    finish_historical,
    historical_dataset,
    parse_plans,
    schema_of,
)
from costsim_assets.reference_data.historical import (
    ATTRIBUTION,
    SOURCE_SETTING,
    HistoricalSourceError,
    anonymize,
    historical_records,
    parse_trace,
)
from costsim_assets.reference_data.task_types import output_length_pool
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.store.schema_errors import record_schema_errors

SCHEMA_ERROR_COLUMNS = ("record_id", "field_path", "reason", "raw_record")
DESCRIPTIONS = {
    **{
        name: f"Synthetic golden dataset ({spec.description}); seed {spec.seed}, {spec.rows} records, "
        "ground truth from the execution model (output lengths resampled from the held-out window of "
        f"the real trace, {SOURCE_SETTING})."
        for name, spec in SYNTHETIC_SPECS.items()
    },
    HISTORICAL: "Real traffic: the Azure LLM inference trace (CC-BY-4.0), anonymized; ground truth = "
    f"real generated tokens x list price. Source from {SOURCE_SETTING}.",
}


def _trace(reference_data: ReferenceDataResource) -> tuple[pd.DataFrame, str]:
    """The verified trace and its sha256; a missing or wrong source names the settings."""
    try:
        data = reference_data.trace_bytes()
        return parse_trace(data), hashlib.sha256(data).hexdigest()
    except HistoricalSourceError as error:
        raise dg.Failure(description=str(error)) from error


def dataset_frame(name: str, reference_data: ReferenceDataResource) -> ReferenceDataset:
    """Build the named dataset: every one needs the real trace (synthetic output lengths too)."""
    prices = load_price_table()
    trace, trace_sha256 = _trace(reference_data)
    if name != HISTORICAL:
        return build_synthetic(name, prices, output_length_pool(trace, trace_sha256))
    anonymized = anonymize(trace, reference_data.anonymization_salt)
    return historical_dataset(finish_historical(historical_records(anonymized, prices)), trace_sha256)


def schema_error_rows(frame: pd.DataFrame) -> list[dict]:
    """One row per schema issue of every invalid record, with the raw record kept."""
    _, _, invalid = parse_plans(frame["plan_json"].tolist())
    return [
        {
            "record_id": frame["record_id"].iat[row],
            "field_path": issue.path,
            "reason": issue.reason,
            "raw_record": frame["plan_json"].iat[row],
        }
        for row, issues in invalid
        for issue in issues
    ]


def _file_sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(name: str, dataset: ReferenceDataset, paths: tuple, rejected_records: int) -> dict:
    frame = dataset.records
    manifest = {
        "name": name,
        "rows": int(len(frame)),
        "schema": schema_of(frame),
        "content_sha256": content_sha256(frame),
        "files": {
            path.name: {"sha256": _file_sha256(path), "rows": int(len(table))}
            for path, table in zip(paths, (frame, dataset.steps), strict=True)
        },
        "steps_schema": schema_of(dataset.steps),
        "ground_truth_sources": dataset.sources,
        "schema_error_records": rejected_records,
        "data_card": f"datasets/{name}/README.md",
    }
    if name in SYNTHETIC_SPECS:
        manifest["seed"] = SYNTHETIC_SPECS[name].seed
    else:
        manifest["attribution"] = ATTRIBUTION
    return manifest


def build_reference_dataset_asset(name: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=keys.reference(name),
        group_name="reference_datasets",
        description=DESCRIPTIONS[name],
        kinds={"parquet"},
    )
    def _dataset(
        context: dg.AssetExecutionContext,
        artifacts: ArtifactStoreResource,
        reference_data: ReferenceDataResource,
        store: StoreResource,
    ) -> dg.MaterializeResult:
        dataset = dataset_frame(name, reference_data)
        frame = dataset.records
        path = write_parquet(artifacts.dataset_file(name), frame)
        steps_path = write_parquet(artifacts.dataset_steps_file(name), dataset.steps)
        errors = schema_error_rows(frame)
        kept = write_parquet(
            artifacts.dataset_file(name).with_name("schema_errors.parquet"),
            pd.DataFrame(errors, columns=list(SCHEMA_ERROR_COLUMNS)),
        )
        with store.engine().begin() as conn:
            record_schema_errors(conn, name, errors, run_id=context.run.run_id)
        rejected = len({e["record_id"] for e in errors})
        manifest = _manifest(name, dataset, (path, steps_path), rejected)
        write_json(artifacts.dataset_file(name).with_name("manifest.json"), manifest)
        context.log.info(
            f"{name}: {len(frame)} records, {rejected} rejected by the plan schema ({len(errors)} issues "
            f"kept in {kept.name} and the schema_errors table); content {manifest['content_sha256'][:12]}"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(frame),
                "steps": len(dataset.steps),
                "path": dg.MetadataValue.path(str(path)),
                "content_sha256": manifest["content_sha256"],
                "schema_error_records": rejected,
                "schema_errors_kept": dg.MetadataValue.path(str(kept)),
                "preview": dg.MetadataValue.md(
                    frame.head(5).drop(columns=["plan_json"]).to_markdown(index=False)
                ),
            }
        )

    return _dataset
