"""V1 and V2 outputs per reference dataset (one asset per dataset and version)."""

import dagster as dg
import pandas as pd

from costsim_assets.artifacts.files import write_parquet
from costsim_assets.defs.resources import ArtifactStoreResource
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.validation.evaluate import simulate

VERSIONS = ("v1", "v2")


def build_simulation_asset(name: str, version: str) -> dg.AssetsDefinition:
    deps = [dg.AssetKey(["reference", name])]
    if version == "v2":
        deps.append(dg.AssetKey(["models", "v2_model"]))

    @dg.asset(
        key=["simulation", f"{name}_{version}"],
        deps=deps,
        group_name="simulation",
        kinds={"parquet"},
        description=f"CostSim {version.upper()} outputs (hashes, status, estimates) for every "
        f"schema-valid record of {name}, beside its ground truth.",
    )
    def _outputs(artifacts: ArtifactStoreResource) -> dg.MaterializeResult:
        dataset = pd.read_parquet(artifacts.dataset_file(name))
        outputs = simulate(dataset, version, load_v2_model() if version == "v2" else None)
        path = write_parquet(artifacts.outputs_file(name, version), outputs)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(outputs),
                "path": dg.MetadataValue.path(str(path)),
                "model_version": str(outputs["version"].iat[0]) if len(outputs) else "",
                "skipped_schema_invalid": len(dataset) - len(outputs),
            }
        )

    return _outputs
