"""Historical traffic replayed through the sandbox path, one daily partition at a time."""

from datetime import date

import dagster as dg
import pandas as pd

from costsim_assets.defs import keys
from costsim_assets.defs.partitions import DAILY
from costsim_assets.defs.resources import ArtifactStoreResource, StoreResource
from costsim_assets.reference_data.build import HISTORICAL
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.sandbox.replay import replay_day


class ReplayConfig(dg.Config):
    requests_per_day: int = 5000
    seed_salt: str = ""
    prompt_scale: float = 1.0  # != 1 simulates a traffic-mix shift (longer or shorter prompts)


@dg.asset(
    key=keys.TRAFFIC_REPLAY,
    partitions_def=DAILY,
    group_name="sandbox",
    deps=[keys.reference(HISTORICAL), keys.MODEL],
    kinds={"sql"},
    description="A seeded day of the anonymized real trace evaluated by V1 and V2 (the models/v2_model "
    "artifact) through the sandbox engine into provenance, so the canary has realistic input. "
    "Idempotent.",
)
def traffic_replay(
    context: dg.AssetExecutionContext,
    config: ReplayConfig,
    artifacts: ArtifactStoreResource,
    store: StoreResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    requests = pd.read_parquet(artifacts.dataset_file(HISTORICAL), columns=["plan_json", "tenant_id"])
    model = artifacts.v2_model()
    added = replay_day(
        store.sandbox_engine(),
        requests,
        day,
        config.requests_per_day,
        V2Evaluator(model),
        config.seed_salt,
        config.prompt_scale,
    )
    context.log.info(
        f"{day}: {config.requests_per_day} requests replayed with V2 {model.version} "
        f"(prompt scale {config.prompt_scale}); {added} new provenance rows "
        f"({config.requests_per_day - added} already there from an earlier run)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": config.requests_per_day,
            "rows_added": added,
            "day": context.partition_key,
            "model_version": model.version,
            "prompt_scale": config.prompt_scale,
        }
    )
