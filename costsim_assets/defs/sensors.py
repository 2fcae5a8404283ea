"""Two sensors around the kill switch; both decide, neither acts.

`canary_drift_sensor` reads the canary's check executions (a failed check does not fail its run,
so run-failure sensors never see it) through the asset-check execution history, which every
instance serves: the shipped run-sharded SQLite, consolidated SQLite and PostgreSQL. Its cursor is
the highest execution id handled, held below any execution still in flight (an execution row is
created when planned and completed in place). Each breach becomes a RunRequest for the
breach_response job with run key `<check>/<day>`, so a second evaluation of the same breach (a
rerun of the day) launches nothing.

`routing_transitions_sensor` reports routing transitions made outside that job (a person through
the API or CLI, the hysteresis re-enable of the canary verdict) as observations of
routing/v2_state, so every transition shows on the one asset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import dagster as dg

from costsim_assets.canary.actions import ACTOR_TYPE
from costsim_assets.canary.checks import CHECKS, canary_check
from costsim_assets.defs import keys
from costsim_assets.defs.assets.routing import OP_NAME
from costsim_assets.defs.jobs import breach_response_job
from costsim_assets.defs.resources import StoreResource
from costsim_assets.store.history_queries import history_page
from costsim_assets.store.routing import ROUTING_ENTITY
from costsim_assets.store.status_history import SYSTEM_TENANT

PAGE = 100
COMPLETED = {"SUCCEEDED", "FAILED"}  # execution record statuses (PLANNED until the check reports)


def _executions_after(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, after: int) -> Iterator:
    """Executions of one check with id > after. The history pages newest first, below a cursor id."""
    below = None
    while True:
        page = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=PAGE, cursor=below
        )
        newer = [record for record in page if record.id > after]
        yield from newer
        if len(newer) < len(page) or len(page) < PAGE:
            return
        below = page[-1].id


def _in_flight(instance: dg.DagsterInstance, record) -> bool:
    """Planned and its run still going: it will complete in place, under its current id."""
    if record.status.value in COMPLETED:
        return False
    run = instance.get_run_by_id(record.run_id)
    return run is not None and not run.is_finished


def _metadata(record) -> dict:
    evaluation = record.event.dagster_event.event_specific_data
    return {name: getattr(value, "value", value) for name, value in evaluation.metadata.items()}


def breach_run_request(check_name: str, metadata: dict) -> dg.RunRequest:
    """The breach_response run for one breached check and day; the run key makes it happen once."""
    day = str(metadata["partition"])
    config = {
        "check": check_name,
        "day": day,
        "value": metadata.get("value"),
        "threshold": float(metadata["threshold"]),
        "detail": str(metadata.get("detail", "")),
        "moved": [str(m) for m in metadata.get("moved") or []],
        "evidence_json": json.dumps(metadata.get("evidence") or {}),
        "diff_artifacts": str(metadata.get("diff_artifacts", "")),
    }
    return dg.RunRequest(
        run_key=f"{check_name}/{day}",
        run_config={"ops": {OP_NAME: {"config": config}}},
        tags={
            "costsim/check": check_name,
            "costsim/day": day,
            "costsim/priority": canary_check(check_name).priority,
        },
    )


def decide(instance: dg.DagsterInstance, cursor: int) -> tuple[list[dg.RunRequest], int, list[str]]:
    """(run requests, next cursor, what was seen) for the check executions after `cursor`."""
    records = sorted(
        (
            r
            for c in CHECKS
            for r in _executions_after(instance, dg.AssetCheckKey(keys.CANARY_DRIFT, c.name), cursor)
        ),
        key=lambda r: r.id,
    )
    requests, seen, hold = {}, [], None
    for record in records:
        if _in_flight(instance, record):
            hold = record.id - 1 if hold is None else hold
            continue
        if record.status.value in COMPLETED:
            metadata = _metadata(record)
            seen.append(f"{record.key.name}/{metadata.get('partition')}: {metadata.get('outcome')}")
            if metadata.get("outcome") == "breach":  # one request per run key: the latest evaluation
                request = breach_run_request(record.key.name, metadata)
                requests[request.run_key] = request
    last = records[-1].id if records else cursor
    return list(requests.values()), last if hold is None else hold, seen


def build_drift_sensor(minimum_interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="canary_drift_sensor",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        job=breach_response_job,
        description="Decides on the canary checks' breaches: one breach_response run per check and day "
        "(P1 disable + incident + alert, P2 alert, P3 incident + alert; see canary/checks.py).",
    )
    def canary_drift_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = int(context.cursor or 0)
        requests, next_cursor, seen = decide(context.instance, cursor)
        context.log.info(f"cursor {cursor} -> {next_cursor}; executions: {seen or 'none new'}")
        skip = None if requests else f"no new breaches (cursor {next_cursor})"
        return dg.SensorResult(run_requests=requests, cursor=str(next_cursor), skip_reason=skip)

    return canary_drift_sensor


def _observation(row: dict) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=keys.ROUTING,
        metadata={
            "state": row["new_status"],
            "transition": f"{row['old_status']} -> {row['new_status']}",
            "actor": f"{row['actor_type']}:{row['actor_id']}",
            "reason": row["reason"],
            "incident_id": row["correlation_id"],
            "at": row["created_at"],
            "history_id": row["id"],
        },
    )


def build_routing_sensor(minimum_interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="routing_transitions_sensor",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Reports V2 routing transitions made by a person or by hysteresis as observations "
        "of routing/v2_state (breach responses are its materializations).",
    )
    def routing_transitions_sensor(
        context: dg.SensorEvaluationContext, store: StoreResource
    ) -> dg.SensorResult:
        cursor = int(context.cursor or 0)
        entity_type, entity_id = ROUTING_ENTITY
        with store.engine().connect() as conn:
            rows = history_page(
                conn,
                tenant_id=SYSTEM_TENANT,
                filters={"entity_type": entity_type, "entity_id": entity_id},
                after_id=cursor,
                limit=PAGE,
            )
        observed = [_observation(row) for row in rows if row["actor_type"] != ACTOR_TYPE]
        next_cursor = rows[-1]["id"] if rows else cursor
        context.log.info(
            f"{len(rows)} routing transitions after {cursor}; {len(observed)} made outside the job"
        )
        skip = None if observed else "no transitions made outside breach_response"
        return dg.SensorResult(asset_events=observed, cursor=str(next_cursor), skip_reason=skip)

    return routing_transitions_sensor
