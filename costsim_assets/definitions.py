"""The Dagster code location: every asset, check, job, schedule, sensor and resource of CostSim M6.

`defs` is loaded lazily (@dg.definitions): the environment (resources, the sensor interval, the
executor) is read when Dagster loads the location, never when this module is imported.

Steps run in one process by default: a process per step costs seconds of imports each on a small
machine (minutes for the whole graph). COSTSIM_EXECUTOR=multiprocess runs one process per step,
and then a run's config may still choose `execution: {config: {in_process: {}}}`.
"""

from __future__ import annotations

import dagster as dg

from costsim_assets import settings
from costsim_assets.defs.assets.canary import canary_drift, canary_sample, canary_verdict
from costsim_assets.defs.assets.challenger import v2_challenger
from costsim_assets.defs.assets.divergence_report import divergence_report
from costsim_assets.defs.assets.models import v2_model
from costsim_assets.defs.assets.reference_datasets import build_reference_dataset_asset
from costsim_assets.defs.assets.routing import v2_state
from costsim_assets.defs.assets.sandbox_traffic import traffic_replay
from costsim_assets.defs.assets.simulations import build_simulation_asset
from costsim_assets.defs.assets.validation import build_metrics_asset, build_verdict_asset, m6_verdict
from costsim_assets.defs.checks.reference_quality import build_reference_check
from costsim_assets.defs.jobs import JOBS, SCHEDULES
from costsim_assets.defs.keys import VERSIONS
from costsim_assets.defs.resources import resources_from_env
from costsim_assets.defs.sensors import build_drift_sensor, build_routing_sensor
from costsim_assets.reference_data.build import DATASET_NAMES

EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multi_or_in_process_executor}


def build_definitions(
    resources: dict | None = None,
    sensor_interval_s: int = settings.DEFAULT_SENSOR_INTERVAL_S,
    executor: str = settings.EXECUTORS[0],
) -> dg.Definitions:
    """All definitions; tests pass their own resources, deployments read the environment."""
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
            v2_challenger,
            divergence_report,
            v2_state,
        ],
        asset_checks=[build_reference_check(name) for name in DATASET_NAMES],
        jobs=list(JOBS),
        schedules=list(SCHEDULES),
        sensors=[build_drift_sensor(sensor_interval_s), build_routing_sensor(sensor_interval_s)],
        resources=resources if resources is not None else resources_from_env(),
        executor=EXECUTORS[executor],
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The deployed code location, configured from the environment at load time."""
    return build_definitions(
        sensor_interval_s=settings.sensor_interval_s(), executor=settings.executor_name()
    )
