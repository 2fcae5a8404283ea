"""The V2 model artifact as an asset: its version (content hash), calibration and price table.

Everything that simulates with V2 depends on this asset and reads the file it writes
(ArtifactStoreResource.v2_model), never the packaged file, so the lineage is true.
"""

import dagster as dg

from costsim_assets.artifacts.files import write_json
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.simulator.v2_model import load_v2_model


@dg.asset(
    key=keys.MODEL,
    group_name="models",
    kinds={"json"},
    description="CostSim V2's fitted artifact (coefficients, price table, training-data hash); "
    "its content hash is the model version. Today the packaged bootstrap champion.",
)
def v2_model(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
    model = load_v2_model()
    kept = write_json(artifacts.v2_model_file(model.version), model.artifact)
    current = write_json(artifacts.v2_model_file(), model.artifact)
    calibration = model.artifact["calibration"]
    context.log.info(
        f"V2 model {model.version} (prices {model.prices.version}, held-out interval coverage "
        f"{calibration['heldout_interval_coverage']}) is the current artifact at {current}"
    )
    return dg.MaterializeResult(
        metadata={
            "model_version": model.version,
            "path": dg.MetadataValue.path(str(current)),
            "kept_as": dg.MetadataValue.path(str(kept)),
            "price_table_version": model.prices.version,
            "heldout_interval_coverage": calibration["heldout_interval_coverage"],
            "heldout_rows": calibration["heldout_rows"],
            "trace_sha256": model.artifact["training_data"]["trace_sha256"],
        }
    )
