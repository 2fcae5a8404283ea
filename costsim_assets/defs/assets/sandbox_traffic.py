"""Real traffic replayed through the sandbox path with its real outcomes, one daily partition at a time."""

from datetime import date

import dagster as dg
import pandas as pd

from costsim_assets.defs import keys
from costsim_assets.defs.partitions import DAILY
from costsim_assets.defs.resources import ArtifactStoreResource, ReferenceDataResource, StoreResource
from costsim_assets.reference_data.build import HISTORICAL
from costsim_assets.reference_data.historical import HistoricalSourceError
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.sandbox.replay import REQUEST_COLUMNS, ReplayShift, replay_day, trace_requests
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.store.routing import routing_enabled_fail_safe


class ReplayConfig(dg.Config):
    requests_per_day: int = 5000
    seed_salt: str = ""
    prompt_scale: float = 1.0  # prompt tokens x s, in plans and outcomes: a traffic-mix shift
    output_scale: float = 1.0  # real generated tokens x s, in outcomes only: output lengths alone grow
    price_scale: float = 1.0  # billed = list price x s: a provider's price change


def _requests(
    artifacts: ArtifactStoreResource, reference_data: ReferenceDataResource
) -> tuple[pd.DataFrame, str]:
    """The requests to replay and where they came from (the replay's own trace, else the historical set)."""
    try:
        data = reference_data.replay_trace_bytes()
        if data is None:
            return pd.read_parquet(artifacts.dataset_file(HISTORICAL), columns=REQUEST_COLUMNS), "historical"
        return trace_requests(data, reference_data.anonymization_salt, load_price_table()), "replay_source"
    except HistoricalSourceError as error:
        raise dg.Failure(description=str(error)) from error


@dg.asset(
    key=keys.TRAFFIC_REPLAY,
    partitions_def=DAILY,
    group_name="sandbox",
    deps=[keys.reference(HISTORICAL), keys.MODEL],
    kinds={"sql"},
    description="A seeded day of real traffic (the anonymized historical trace, or COSTSIM_REPLAY_SOURCE) "
    "through the sandbox engine: V1's provenance always, V2's when routing allows, and each request's "
    "real outcome (generated tokens x list price); V2 is the models/v2_model artifact. Idempotent.",
)
def traffic_replay(
    context: dg.AssetExecutionContext,
    config: ReplayConfig,
    artifacts: ArtifactStoreResource,
    store: StoreResource,
    reference_data: ReferenceDataResource,
) -> dg.MaterializeResult:
    day = date.fromisoformat(context.partition_key)
    requests, source = _requests(artifacts, reference_data)
    model = artifacts.v2_model()
    v2_runs = routing_enabled_fail_safe(store.engine())
    shift = ReplayShift(config.prompt_scale, config.output_scale, config.price_scale)
    context.log.info(
        f"replaying {config.requests_per_day} requests of {source} for {day} (V2 "
        f"{'runs' if v2_runs else 'skipped: routing disabled'}; {shift})"
    )
    added = replay_day(
        store.sandbox_engine(),
        requests,
        day,
        config.requests_per_day,
        V2Evaluator(model) if v2_runs else None,
        load_price_table(),
        config.seed_salt,
        shift,
    )
    context.log.info(
        f"{day}: {config.requests_per_day} requests replayed (V2 {model.version}); {added} new "
        f"provenance rows ({config.requests_per_day - added} already there from an earlier run)"
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": config.requests_per_day,
            "rows_added": added,
            "day": context.partition_key,
            "source": source,
            "v2": "ran" if v2_runs else "skipped (routing disabled)",
            "model_version": model.version,
            "prompt_scale": config.prompt_scale,
            "output_scale": config.output_scale,
            "price_scale": config.price_scale,
        }
    )
