"""The daily challenger step: judge a pending challenger on a day it was not fitted on, promote it
when validated and configured to, or refit one on the last days' outcomes once the champion has
breached P1 on each of them (recalibration/policy.py). Registry changes show on models/v2_model."""

import dagster as dg
import pandas as pd

from costsim_assets.canary.config import CanaryConfig
from costsim_assets.canary.judgement import P1, judge
from costsim_assets.canary.outcome_day import outcome_day, reference_profile
from costsim_assets.defs import keys
from costsim_assets.defs.partitions import DAILY, partition_day_bounds
from costsim_assets.defs.resources import ArtifactStoreResource, CanaryResource, StoreResource
from costsim_assets.recalibration.policy import refit_due, window, window_days_of
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.store.canary_results import p1_outcomes
from costsim_assets.store.models import (
    champion,
    pending_challenger,
    promote,
    record_validation,
    register_challenger,
)
from costsim_assets.store.outcomes import llm_observations
from costsim_assets.training.fit import fit_v2_artifact
from costsim_assets.training.observations import ObservationError


def _judged(model: V2Model, sample: pd.DataFrame, steps: pd.DataFrame, config: CanaryConfig) -> dict:
    """The P1 check of `model` on the day's sampled outcomes (the canary's own judgement)."""
    day = outcome_day(sample, steps, model)
    return judge(day.steps, day.requests, reference_profile(model), config.judgement)["checks"][P1]


def _validate(context, store: StoreResource, pending: dict, p1: dict, config: CanaryConfig) -> str:
    """Record the challenger's unseen day; promote it when validated and auto-promotion is on."""
    day = context.partition_key
    if p1["outcome"] == "no_data":
        return f"challenger {pending['version']}: no data on {day}, nothing recorded"
    with store.engine().begin() as conn:
        role = record_validation(
            conn,
            pending["version"],
            day,
            p1["outcome"] == "pass",
            p1["detail"],
            config.recalibration.validation_days,
        )
        if role == "validated" and config.recalibration.auto_promote:
            promote(
                conn,
                pending["version"],
                actor_type="canary",
                actor_id="v2_challenger",
                reason=f"validated on {config.recalibration.validation_days} unseen days; auto-promotion on",
            )
            role = "champion"
    return f"challenger {pending['version']} on {day}: {p1['outcome']} -> {role}"


def _refit(context, store: StoreResource, serving: V2Model, config: CanaryConfig) -> str:
    """Fit a challenger on the outcomes of the window ending today and register it."""
    first, last = window(context.partition_key, config.recalibration.window_days)
    start, end = partition_day_bounds(first)[0], partition_day_bounds(last)[1]
    with store.sandbox_engine().connect() as conn:
        observations = llm_observations(conn, start=start, end=end)
    source = {"outcomes": f"{first}..{last}", "rows": int(len(observations)), "refit_from": serving.version}
    try:
        artifact = fit_v2_artifact(observations, prices=serving.prices, priors=load_priors(), source=source)
    except ObservationError as error:
        return f"refit due but not possible on {first}..{last}: {error}"
    with store.engine().begin() as conn:
        added = register_challenger(conn, artifact, (first, last))
    return f"challenger {artifact['version']} fitted on {len(observations)} calls of {first}..{last}" + (
        "" if added else " (already registered)"
    )


@dg.asset(
    key=keys.CHALLENGER,
    partitions_def=DAILY,
    group_name="recalibration",
    deps=[keys.CANARY_SAMPLE, keys.MODEL],
    description="Champion and challenger: a challenger refitted on the last days' realized outcomes once the "
    "champion breached P1 on each of them, judged on every later day like the champion, promoted (by a "
    "person, or automatically when configured) only after passing on unseen days. Its version and role "
    "show on models/v2_model.",
)
def v2_challenger(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
) -> dg.MaterializeResult:
    day, config, serving = context.partition_key, canary.config(), artifacts.v2_model()
    sample = pd.read_parquet(artifacts.canary_file(day, "sample.parquet"))
    steps = pd.read_parquet(artifacts.canary_file(day, "sample_outcomes.parquet"))
    with store.engine().connect() as conn:
        pending, current = pending_challenger(conn), champion(conn)
        earlier = window_days_of(day, config.recalibration.window_days)[:-1]
        history = p1_outcomes(conn, earlier)
    history[day] = _judged(serving, sample, steps, config)["outcome"]
    if pending and day > pending["window_end"]:
        action = _validate(
            context,
            store,
            pending,
            _judged(V2Model.from_artifact(pending["artifact"]), sample, steps, config),
            config,
        )
    elif refit_due(history, day, config.recalibration.window_days, pending is not None):
        action = _refit(context, store, serving, config)
    else:
        action = (
            f"nothing to do: champion P1 over {', '.join(f'{d} {o}' for d, o in sorted(history.items()))}"
        )
    context.log.info(action)
    with store.engine().connect() as conn:
        after = pending_challenger(conn)
    return dg.MaterializeResult(
        metadata={
            "action": action,
            "champion_version": current["version"] if current else serving.version,
            "challenger_version": after["version"] if after else "",
            "challenger_role": after["role"] if after else "",
            "champion_p1_today": history[day],
        }
    )
