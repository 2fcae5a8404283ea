"""The V2 model artifact as an asset: its version (content hash), calibration, priors and data.

It materializes the bootstrap champion shipped with the package (fitted on the earliest 70 % of
the real trace by `training.bootstrap`); everything that simulates with V2 reads the file this
asset writes, never the packaged file (ArtifactStoreResource.v2_model), so the lineage is true.
"""

import dagster as dg

from costsim_assets.artifacts.files import write_text
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.simulator.v2_model import artifact_text, load_v2_model


def model_metadata(artifact: dict) -> dict:
    """What a data engineer checks in the UI: version, segments and their coverage, what is a prior."""
    output = artifact["output_tokens"]
    segments = output["segments"]
    return {
        "model_version": artifact["version"],
        "price_table_version": artifact["price_table"]["price_table_version"],
        "segments": dg.MetadataValue.json(
            {
                key: {**seg["calibration"], "calibration_rows": seg["calibration_rows"]}
                for key, seg in segments.items()
            }
        ),
        "nominal_interval": output["nominal_interval"],
        "latency_validated": artifact["llm_latency"]["validated"],
        "priors_version": artifact["priors"]["version"],
        "training_data": dg.MetadataValue.json(artifact["training_data"]),
    }


@dg.asset(
    key=keys.MODEL,
    group_name="models",
    kinds={"json"},
    description="CostSim V2's fitted artifact (segments with calibrated intervals, price table, priors, "
    "training-data hash); its content hash is the model version.",
)
def v2_model(context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
    model = load_v2_model()
    text = artifact_text(model.artifact)
    kept = write_text(artifacts.v2_model_file(model.version), text)
    path = write_text(artifacts.v2_model_file(), text)
    context.log.info(f"V2 model {model.version}: {len(model.segments.names)} segments, latency not validated")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "kept_as": dg.MetadataValue.path(str(kept)),
            **model_metadata(model.artifact),
        }
    )
