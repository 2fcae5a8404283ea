"""The Dagster code location: every asset, check, job and resource of CostSim M6."""

from __future__ import annotations

import dagster as dg

from costsim_assets import settings
from costsim_assets.defs.assets.canary import canary_drift, canary_sample, canary_verdict
from costsim_assets.defs.assets.divergence_report import divergence_report
from costsim_assets.defs.assets.models import v2_model
from costsim_assets.defs.assets.reference_datasets import build_reference_dataset_asset
from costsim_assets.defs.assets.sandbox_traffic import traffic_replay
from costsim_assets.defs.assets.simulations import VERSIONS, build_simulation_asset
from costsim_assets.defs.assets.validation import build_metrics_asset, build_verdict_asset, m6_verdict
from costsim_assets.defs.checks.reference_quality import build_reference_check
from costsim_assets.defs.partitions import DAILY
from costsim_assets.defs.sensors import canary_drift_sensor
from costsim_assets.reference_data.build import DATASET_NAMES

m6_validation_job = dg.define_asset_job(
    "m6_validation",
    selection=dg.AssetSelection.all(),
    description="Everything: reference datasets, V1/V2 outputs, verdicts, the M6 verdict, and for one "
    "day the traffic replay and the canary.",
)
daily_canary_job = dg.define_asset_job(
    "daily_canary",
    selection=dg.AssetSelection.groups("canary"),
    partitions_def=DAILY,
    description="The canary for one day of provenance.",
)
daily_canary_schedule = dg.build_schedule_from_partitioned_job(
    daily_canary_job,
    hour_of_day=1,
    minute_of_hour=15,
    name="daily_canary_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


def build_definitions(resources: dict | None = None) -> dg.Definitions:
    """All definitions; tests pass their own resources, deployments use the settings module."""
    return dg.Definitions(
        assets=[
            *(build_reference_dataset_asset(name) for name in DATASET_NAMES),
            v2_model,
            *(build_simulation_asset(name, v) for name in DATASET_NAMES for v in VERSIONS),
            *(build_metrics_asset(name) for name in DATASET_NAMES),
            *(build_verdict_asset(name) for name in DATASET_NAMES),
            m6_verdict,
            traffic_replay,
            canary_sample,
            canary_drift,
            canary_verdict,
            divergence_report,
        ],
        asset_checks=[build_reference_check(name) for name in DATASET_NAMES],
        jobs=[m6_validation_job, daily_canary_job],
        schedules=[daily_canary_schedule],
        sensors=[canary_drift_sensor],
        resources=resources if resources is not None else settings.resources(),
    )


defs = build_definitions()
