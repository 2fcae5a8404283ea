"""The V2 model artifact as an asset: its version (content hash), calibration and price table."""

import dagster as dg

from costsim_assets.artifacts.files import write_json
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.simulator.v2_model import load_v2_model


@dg.asset(
    key=["models", "v2_model"],
    group_name="models",
    kinds={"json"},
    description="CostSim V2's fitted artifact (coefficients, price table, training-data hash); "
    "its content hash is the model version.",
)
def v2_model(artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
    model = load_v2_model()
    path = write_json(artifacts.path("models", f"{model.version}.json"), model.artifact)
    calibration = model.artifact["calibration"]
    return dg.MaterializeResult(
        metadata={
            "model_version": model.version,
            "path": dg.MetadataValue.path(str(path)),
            "price_table_version": model.prices.version,
            "heldout_interval_coverage": calibration["heldout_interval_coverage"],
            "heldout_rows": calibration["heldout_rows"],
            "trace_sha256": model.artifact["training_data"]["trace_sha256"],
        }
    )
