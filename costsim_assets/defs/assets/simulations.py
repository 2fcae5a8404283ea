"""V1 and V2 outputs per reference dataset (one asset per dataset and version); V2 reads the
models/v2_model asset's artifact."""

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_parquet
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.validation.evaluate import simulate, step_predictions


def build_simulation_asset(name: str, version: str) -> dg.AssetsDefinition:
    deps = [keys.reference(name), *([keys.MODEL] if version == "v2" else [])]

    @dg.asset(
        key=keys.simulation(name, version),
        deps=deps,
        group_name="simulation",
        kinds={"parquet"},
        description=f"CostSim {version.upper()} outputs (hashes, status, estimates) for every "
        f"schema-valid record of {name}, beside its ground truth"
        + (
            " (V2: also per-LLM-step output-token predictions beside the naive baselines')."
            if version == "v2"
            else "."
        ),
    )
    def _outputs(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
        dataset = pd.read_parquet(artifacts.dataset_file(name))
        model = artifacts.v2_model() if version == "v2" else None
        outputs = simulate(dataset, version, model)
        path = write_parquet(artifacts.outputs_file(name, version), outputs)
        model_version = str(outputs["version"].iat[0]) if len(outputs) else ""
        skipped = len(dataset) - len(outputs)
        metadata = {}
        if model is not None:
            steps = write_parquet(artifacts.step_predictions_file(name), step_predictions(dataset, model))
            metadata["step_predictions"] = dg.MetadataValue.path(str(steps))
        context.log.info(
            f"{version} ({model_version}) simulated {len(outputs)} of {len(dataset)} {name} records; "
            f"{skipped} schema-invalid records skipped"
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(outputs),
                "path": dg.MetadataValue.path(str(path)),
                "model_version": model_version,
                "skipped_schema_invalid": skipped,
                **metadata,
            }
        )

    return _outputs
