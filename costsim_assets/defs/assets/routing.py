"""The kill switch as an asset: routing/v2_state sits after the canary check that moved it.

The breach_response job materializes it for one breached check and day (the drift sensor decides
and passes the breach as run config): the action of the checks table runs (disable by
compare-and-set, incident files, alert), and the materialization records the state, the
transition, the incident file and the alert delivery. Transitions made elsewhere (a person, the
hysteresis re-enable) are reported on the same asset as observations by the routing sensor.
"""

import json
from pathlib import Path

import dagster as dg

from costsim_assets.canary.actions import Breach, BreachOutcome, handle_breach
from costsim_assets.defs import keys
from costsim_assets.defs.resources import ArtifactStoreResource, CanaryResource, StoreResource
from costsim_assets.store.routing import read_routing_state

# The response is idempotent, so retrying it whole is safe; a failed alert is resent on retry.
RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL)
OP_NAME = "routing__v2_state"  # the op of keys.ROUTING, for run config


class BreachConfig(dg.Config):
    """The breach the drift sensor decided on; an empty `check` only records the current state."""

    check: str = ""
    day: str = ""
    value: float | None = None
    threshold: float = 0.0
    detail: str = ""
    moved: list[str] = []
    evidence_json: str = "{}"  # JSON (run config maps cannot hold the nulls of a no-data statistic)
    diff_artifacts: str = ""

    def breach(self) -> Breach:
        return Breach(
            self.check,
            self.day,
            self.value,
            self.threshold,
            self.detail,
            tuple(self.moved),
            json.loads(self.evidence_json),
            self.diff_artifacts,
        )


def incident_directory(canary: CanaryResource, artifacts: ArtifactStoreResource) -> Path:
    """Incident files go to the configured directory, else under the artifact root."""
    return Path(canary.incident_dir) if canary.incident_dir else artifacts.path("incidents")


def _outcome_metadata(breach: Breach, outcome: BreachOutcome) -> dict:
    incident_file = dg.MetadataValue.path(outcome.incident_file) if outcome.incident_file else None
    return {
        "state": outcome.state,
        "transition": outcome.transition or "none",
        "action": outcome.action,
        "check": breach.check_name,
        "day": breach.partition_key,
        "value": breach.value,
        "threshold": breach.threshold,
        "detail": breach.detail,
        "moved": dg.MetadataValue.json(list(breach.moved)),
        "evidence": dg.MetadataValue.json(breach.evidence),
        "incident_id": outcome.incident_id,
        "incident_file": incident_file,
        "linked_incident_id": outcome.linked_incident_id,
        "alert_delivery": outcome.alert,
    }


def _current_state(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    with store.engine().connect() as conn:
        state = read_routing_state(conn)
    context.log.info(f"no breach given: V2 routing is {state.state} (revision {state.revision})")
    return dg.MaterializeResult(
        metadata={
            "state": state.state,
            "transition": "none",
            "revision": state.revision,
            "reason": state.reason,
            "incident_id": state.incident_id,
        }
    )


@dg.asset(
    key=keys.ROUTING,
    group_name="routing",
    deps=[keys.CANARY_DRIFT],
    kinds={"sql"},
    retry_policy=RETRY_POLICY,
    description="V2 routing (the kill switch): each materialization is a breach response by the "
    "checks table's action (disable, incident, alert); observations are transitions made by a "
    "person or by hysteresis. The state itself lives in the store (routing_state).",
)
def v2_state(
    context: dg.AssetExecutionContext,
    config: BreachConfig,
    store: StoreResource,
    artifacts: ArtifactStoreResource,
    canary: CanaryResource,
):
    if not config.check:
        yield _current_state(context, store)
        return
    breach = config.breach()
    context.log.info(
        f"{breach.check.priority} {breach.check_name} breached on {breach.partition_key}: {breach.detail}; "
        f"action {breach.check.action} (attempt {context.retry_number + 1})"
    )
    notifier = canary.notifier()
    outcome = handle_breach(
        store.engine(), breach, incident_directory(canary, artifacts), notifier, actor_id=context.run.run_id
    )
    linked = f", linked to {outcome.linked_incident_id}" if outcome.linked_incident_id else ""
    context.log.info(
        f"routing {outcome.state} (transition {outcome.transition or 'none'}); "
        f"incident {outcome.incident_id} {'opened' if outcome.incident_opened else 'already recorded'}"
        f"{linked}; files {outcome.incident_file}; alert {outcome.alert}"
    )
    yield dg.MaterializeResult(metadata=_outcome_metadata(breach, outcome))
    if outcome.alert_failed and notifier is not None:
        raise dg.Failure(
            description=f"the {breach.check.priority} alert was not delivered ({outcome.alert}); "
            "the retry policy resends it",
        )
    if outcome.alert_failed:
        context.log.warning(f"no Slack webhook configured: the alert is recorded as {outcome.alert}")
