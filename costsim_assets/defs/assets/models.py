"""The V2 model artifact as an asset: its version (content hash), calibration, priors and data.

It materializes the registry's champion (store/models.py): the bootstrap shipped with the package
(fitted on the earliest 70 % of the real trace by `training.bootstrap`) until a challenger refitted
on realized outcomes (models/v2_challenger) is validated and promoted. Everything that simulates
with V2 reads the file this asset writes, never the packaged file (ArtifactStoreResource.v2_model),
so the lineage is true.
"""

import dagster as dg

from costsim_assets.artifacts.files import write_text
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource, StoreResource
from costsim_assets.simulator.v2_model import V2Model, artifact_text, load_v2_model
from costsim_assets.store.models import champion, pending_challenger, register_bootstrap


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


def _registry_metadata(champion: dict, pending: dict | None) -> dict:
    """Both versions, so the asset's history in the UI shows champions and challengers."""
    metadata = {
        "role": "champion",
        "champion_version": champion["version"],
        "champion_source": champion["source"],
    }
    if pending:
        metadata |= {
            "challenger_version": pending["version"],
            "challenger_role": pending["role"],
            "challenger_window": f"{pending['window_start']}..{pending['window_end']}",
            "challenger_validation": dg.MetadataValue.json(pending["validation"]),
        }
    return metadata


@dg.asset(
    key=keys.MODEL,
    group_name="models",
    kinds={"json"},
    description="The serving V2 model (the registry's champion: the packaged bootstrap until a validated "
    "challenger is promoted) and any challenger; each materialization records both versions. Everything "
    "that simulates with V2 reads the file it writes.",
)
def v2_model(
    context: dg.AssetExecutionContext, artifacts: ArtifactStoreResource, store: StoreResource
) -> dg.MaterializeResult:
    with store.engine().begin() as conn:
        if register_bootstrap(conn, load_v2_model().artifact):
            context.log.info("empty model registry: the packaged bootstrap champion registered")
        current, pending = champion(conn), pending_challenger(conn)
    model = V2Model.from_artifact(current["artifact"])
    text = artifact_text(model.artifact)
    kept = write_text(artifacts.v2_model_file(model.version), text)
    path = write_text(artifacts.v2_model_file(), text)
    context.log.info(
        f"serving V2 {model.version} ({current['source']}; {len(model.segments.names)} segments); "
        f"challenger: {pending['version'] + ' ' + pending['role'] if pending else 'none'}"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "kept_as": dg.MetadataValue.path(str(kept)),
            **model_metadata(model.artifact),
            **_registry_metadata(current, pending),
        }
    )
