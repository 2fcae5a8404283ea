"""What happens when a canary check breaches (called by the breach-response job; no Dagster here).

The action comes from the checks table (canary/checks.py): `disable` flips V2 routing off by
compare-and-set, opens one incident with files and alerts; `incident` opens one incident and
alerts; `alert` only alerts. A `disable` breach while V2 is already disabled still records its
incident, linked to the one that disabled V2, and one alert that says so. Every step is
idempotent (unique incident per check and day, one delivery per check and day, compare-and-set),
so a second sensor or a rerun of the day changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlalchemy as sa

from costsim_assets.alerts.slack import SlackNotifier, deliver_once
from costsim_assets.artifacts.files import write_json, write_text
from costsim_assets.canary.checks import CanaryCheck, canary_check
from costsim_assets.canary.verdict import CANARY_ENTITY
from costsim_assets.store.incidents import find_incident, open_incident, set_incident_files
from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status

INCIDENT_NAMESPACE = uuid.UUID("a3c0e6d2-2f4b-4c55-8d1a-7e9b0c1d2e3f")
ACTOR_TYPE = "breach_response"
REENABLE = (
    'Re-enable after investigation: `costsim routing enable --reason "..."` or '
    "POST /costsim/v2/enable with an admin key and a reason."
)


@dataclass(frozen=True)
class Breach:
    """A breached check of one canary day, with what the analysis says about it."""

    check_name: str
    partition_key: str
    value: float | None
    threshold: float
    detail: str = ""
    moved: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)
    diff_artifacts: str = ""

    @property
    def check(self) -> CanaryCheck:
        return canary_check(self.check_name)


@dataclass(frozen=True)
class BreachOutcome:
    """What the response did, for the run's log and the routing asset's metadata."""

    action: str
    state: str  # the routing state after the response
    disabled_by: str | None = None  # the incident the routing state names (None: none, or a person)
    transition: str | None = None  # "enabled -> disabled" when this response moved it
    incident_id: str | None = None
    incident_opened: bool = False  # False: this check and day were handled before
    linked_incident_id: str | None = None
    incident_file: str | None = None
    alert: str = "not sent"  # delivered | failed: <why> | already sent | not sent

    @property
    def alert_failed(self) -> bool:
        return self.alert.startswith("failed")


def incident_id(breach: Breach) -> str:
    """Deterministic per check and day, so every responder names the same incident."""
    return str(uuid.uuid5(INCIDENT_NAMESPACE, f"{breach.check_name}/{breach.partition_key}"))


def _evidence(breach: Breach, linked: str | None) -> dict:
    return {
        "check": breach.check_name,
        "partition": breach.partition_key,
        "value": breach.value,
        "threshold": breach.threshold,
        "detail": breach.detail,
        "moved": list(breach.moved),
        "evidence": breach.evidence,
        "diff_artifacts": breach.diff_artifacts,
        "linked_incident_id": linked,
    }


def _incident_markdown(breach: Breach, linked: str | None) -> str:
    check = breach.check
    lines = [
        f"# {check.priority} incident {incident_id(breach)}: {check.description}",
        "",
        f"- check: `{breach.check_name}` on canary day {breach.partition_key}",
        f"- {breach.detail or f'value {breach.value}, threshold {breach.threshold}'}",
        f"- moved: {', '.join(breach.moved) or 'no segment named'}",
    ]
    if breach.diff_artifacts:
        diff = Path(breach.diff_artifacts)
        lines += [
            f"- diff artifacts (mismatching V1/V2 pairs with outputs and hashes): `{diff}`",
            f"- canary report: `{diff.with_name('canary.md')}`",
        ]
    if linked:
        lines.append(f"- V2 was already disabled by incident {linked}; this breach is recorded beside it")
    return "\n".join([*lines, "", REENABLE, ""])


def _write_incident_files(engine: sa.Engine, breach: Breach, incident_dir: Path, linked: str | None) -> Path:
    check, identifier = breach.check, incident_id(breach)
    stem = incident_dir / f"{breach.partition_key}-{breach.check_name}-{identifier[:8]}"
    document = {
        "incident_id": identifier,
        "priority": check.priority,
        "summary": check.description,
        "evidence": _evidence(breach, linked),
        "how_to_reenable": REENABLE,
    }
    json_path = write_json(stem.with_suffix(".json"), document)
    md_path = write_text(stem.with_suffix(".md"), _incident_markdown(breach, linked))
    with engine.begin() as conn:
        set_incident_files(conn, identifier, str(json_path), str(md_path))
    return md_path


def _history(conn: sa.Connection, breach: Breach, actor_id: str, linked: str | None) -> None:
    """The incident's opening and the day's failed canary verdict, as global (_system) events."""
    identifier = incident_id(breach)
    common = {"tenant_id": SYSTEM_TENANT, "old_status": None, "actor_type": ACTOR_TYPE, "actor_id": actor_id}
    append_status(
        conn,
        **common,
        entity_type="incident",
        entity_id=identifier,
        new_status="open",
        reason=breach.check.description,
        correlation_id=linked or identifier,
        metadata=_evidence(breach, linked),
    )
    append_status(
        conn,
        **common,
        entity_type=CANARY_ENTITY,
        entity_id=breach.partition_key,
        new_status="fail",
        reason=f"{breach.check_name} breached: {breach.detail}"[:2000],
        correlation_id=identifier,
    )


def _open(conn: sa.Connection, breach: Breach, actor_id: str, linked: str | None) -> bool:
    check = breach.check
    opened = open_incident(
        conn,
        id=incident_id(breach),
        kind=breach.check_name,
        partition_key=breach.partition_key,
        priority=check.priority,
        summary=check.description,
        evidence=_evidence(breach, linked),
        linked_incident_id=linked,
    )
    if opened:
        _history(conn, breach, actor_id, linked)
    return opened


def alert_text(breach: Breach, outcome: BreachOutcome) -> str:
    """The one message per breach: what breached, what was done, where the evidence is."""
    check = breach.check
    moved = f" Moved: {', '.join(breach.moved)}." if breach.moved else ""
    text = f"[{check.priority}] CostSim canary {breach.partition_key}: {check.description}. {breach.detail}."
    text += moved
    if check.action == "disable" and outcome.disabled_by == outcome.incident_id:
        text += f" V2 routing disabled (incident {outcome.incident_id})."
    elif check.action == "disable":
        by = f"open incident {outcome.linked_incident_id}" if outcome.linked_incident_id else "by a person"
        text += f" V2 was already disabled ({by}); this breach is recorded as incident {outcome.incident_id}."
    elif outcome.incident_id:
        text += f" Incident {outcome.incident_id}."
    return f"{text} Diff: {breach.diff_artifacts}"


def _alert(engine: sa.Engine, breach: Breach, outcome: BreachOutcome, notifier: SlackNotifier | None) -> str:
    """One message per check and day; a failed one is sent again when the job is retried."""
    delivered = deliver_once(
        engine,
        dedupe_key=f"{breach.check_name}/{breach.partition_key}",
        payload={"text": alert_text(breach, outcome)},
        notifier=notifier,
        resend_failed=True,
    )
    if delivered is None:
        return "already sent"
    return delivered.status if delivered.status == "delivered" else f"failed: {delivered.last_error}"


def _disable(conn: sa.Connection, breach: Breach, actor_id: str) -> tuple[str | None, str | None]:
    """(transition, linked incident): flip routing off, else name the incident that already did."""
    moved = transition_routing(
        conn,
        to_state="disabled",
        actor_type=ACTOR_TYPE,
        actor_id=actor_id,
        reason=breach.check.description,
        incident_id=incident_id(breach),
    )
    if moved is not None:
        return "enabled -> disabled", None
    return None, read_routing_state(conn).incident_id


def _respond(conn: sa.Connection, breach: Breach, actor_id: str) -> BreachOutcome:
    """The database half, in one transaction. A check and day handled before change nothing (a
    person may have re-enabled V2 since); otherwise the transition and the incident."""
    action, identifier = breach.check.action, incident_id(breach)
    known = find_incident(conn, breach.check_name, breach.partition_key)
    transition, linked, opened = None, known and known["linked_incident_id"], False
    if known is None:
        transition, linked = _disable(conn, breach, actor_id) if action == "disable" else (None, None)
        opened = _open(conn, breach, actor_id, linked)
    routing = read_routing_state(conn)
    return BreachOutcome(
        action,
        routing.state,
        disabled_by=routing.incident_id if not routing.enabled else None,
        transition=transition,
        incident_id=identifier,
        incident_opened=opened,
        linked_incident_id=linked,
        incident_file=known and known["md_path"],
    )


def handle_breach(
    engine: sa.Engine, breach: Breach, incident_dir: Path, notifier: SlackNotifier | None, actor_id: str
) -> BreachOutcome:
    """Act on one breached check by its action; returns what was done. Safe to repeat: a repeat
    writes missing incident files and resends a failed alert, and changes nothing else."""
    if breach.check.action == "alert":
        with engine.connect() as conn:
            routing = read_routing_state(conn)
        outcome = BreachOutcome("alert", routing.state, disabled_by=routing.incident_id)
    else:
        with engine.begin() as conn:
            outcome = _respond(conn, breach, actor_id)
        if outcome.incident_file is None:
            md_path = _write_incident_files(engine, breach, incident_dir, outcome.linked_incident_id)
            outcome = replace(outcome, incident_file=str(md_path))
    return replace(outcome, alert=_alert(engine, breach, outcome, notifier))
