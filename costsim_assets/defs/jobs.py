"""Jobs that match the work, each with its schedule, and the breach-response job the sensor runs.

- `m6_validation` (static, daily 00:30 UTC): golden datasets -> V1/V2 outputs -> verdicts -> M6.
- `daily_canary` (daily partitions, 01:15 UTC for the day that just ended): the serving model ->
  replay -> canary -> verdict, the challenger step (models/v2_challenger, which reads the sample, not
  the canary's result) and the divergence report (which reads provenance only): a failed blocking
  check fails the canary step and skips the verdict, never the challenger step or the report.
- `breach_response` (launched by canary_drift_sensor): routing/v2_state for one breach.

How steps run (one process, or one per step) is the code location's executor: see
definitions.py and COSTSIM_EXECUTOR.
"""

import dagster as dg

from costsim_assets.defs import keys

STATIC_GROUPS = ("reference_datasets", "models", "simulation", "validation")
DAILY_GROUPS = ("sandbox", "canary", "recalibration", "reports")

m6_validation_job = dg.define_asset_job(
    "m6_validation",
    selection=dg.AssetSelection.groups(*STATIC_GROUPS),
    description="Golden reference datasets, the V2 model, V1/V2 outputs, metrics, verdicts and the "
    "M6 verdict (no partitions: the golden data does not depend on the day).",
)
daily_canary_job = dg.define_asset_job(
    "daily_canary",
    selection=dg.AssetSelection.groups(*DAILY_GROUPS) | dg.AssetSelection.assets(keys.MODEL),
    description="One day: the serving model (the registry's champion), traffic replay, the canary "
    "(sample, drift with its checks, verdict), the challenger step and the divergence report.",
)
breach_response_job = dg.define_asset_job(
    "breach_response",
    selection=dg.AssetSelection.groups("routing"),
    description="The kill switch acting on one breached canary check (run by canary_drift_sensor).",
)

m6_validation_schedule = dg.ScheduleDefinition(
    name="m6_validation_schedule",
    job=m6_validation_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuilds the golden data and verdicts daily, before the canary needs them.",
)
daily_canary_schedule = dg.build_schedule_from_partitioned_job(
    daily_canary_job,
    hour_of_day=1,
    minute_of_hour=15,
    name="daily_canary_schedule",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

JOBS = (m6_validation_job, daily_canary_job, breach_response_job)
SCHEDULES = (m6_validation_schedule, daily_canary_schedule)
