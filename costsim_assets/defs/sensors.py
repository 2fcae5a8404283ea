"""The drift sensor: reads the canary's asset-check evaluations (a failed check does not fail its
run, so run-failure sensors never see it) with a storage-id cursor, and acts on breaches."""

from pathlib import Path

import dagster as dg

from costsim_assets.canary.actions import KINDS, Breach, handle_breach
from costsim_assets.defs.assets.canary import DRIFT_KEY
from costsim_assets.defs.resources import ArtifactStoreResource, CanaryResource, StoreResource

BATCH = 200


def _breach(evaluation: dg.AssetCheckEvaluation) -> Breach | None:
    metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
    if evaluation.asset_key != DRIFT_KEY or evaluation.check_name not in KINDS:
        return None
    if evaluation.passed or metadata.get("outcome") != "breach":
        return None
    return Breach(
        evaluation.check_name,
        metadata["partition"],
        metadata.get("value"),
        metadata["threshold"],
        str(metadata.get("diff_artifacts", "")),
    )


@dg.sensor(
    name="canary_drift_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="P1: disable V2 + incident; P2: Slack; P3: schema incident. Idempotent.",
)
def canary_drift_sensor(
    context: dg.SensorEvaluationContext,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
) -> dg.SkipReason:
    cursor = int(context.cursor or 0)
    records = context.instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, after_cursor=cursor),
        limit=BATCH,
        ascending=True,
    )
    incident_dir = incident_directory(canary, artifacts)
    actions = []
    for record in records:
        breach = _breach(record.event_log_entry.dagster_event.event_specific_data)
        if breach is not None:
            actions.append(
                f"{breach.check_name}/{breach.partition_key}: "
                f"{handle_breach(store.engine(), breach, incident_dir, canary.notifier())}"
            )
        cursor = record.storage_id
    context.update_cursor(str(cursor))
    return dg.SkipReason("; ".join(actions) or f"no new breaches (cursor {cursor})")


def incident_directory(canary: CanaryResource, artifacts: ArtifactStoreResource) -> Path:
    """Incident files go to the configured directory, else under the artifact root."""
    return Path(canary.incident_dir) if canary.incident_dir else artifacts.path("incidents")
