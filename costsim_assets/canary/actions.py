"""What happens when a canary check breaches (called by the drift sensor; no Dagster here).

P1 drift: flip routing to disabled (compare-and-set), open one incident with files, alert.
P2 median shift: a Slack alert, once per day. P3 schema mismatch: one incident with files, alert.
Every step is idempotent: a second sensor or a rerun of the day changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from costsim_assets.alerts.slack import SlackNotifier, deliver_once
from costsim_assets.artifacts.files import write_json, write_text
from costsim_assets.canary.verdict import CANARY_ENTITY
from costsim_assets.store.incidents import open_incident, set_incident_files
from costsim_assets.store.routing import transition_routing
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status

INCIDENT_NAMESPACE = uuid.UUID("a3c0e6d2-2f4b-4c55-8d1a-7e9b0c1d2e3f")
KINDS = {
    "drift_p1": ("P1", "V2 drift above the P1 threshold: V2 routing disabled"),
    "median_shift_p2": ("P2", "V2 median cost shifted beyond the P2 threshold"),
    "schema_errors_p3": ("P3", "schema errors above the P3 threshold"),
}
REENABLE = (
    'Re-enable after investigation: `costsim routing enable --reason "..."` or '
    "POST /costsim/v2/enable with an admin key and a reason."
)


@dataclass(frozen=True)
class Breach:
    check_name: str
    partition_key: str
    value: float | None
    threshold: float
    diff_artifacts: str


def incident_id(breach: Breach) -> str:
    return str(uuid.uuid5(INCIDENT_NAMESPACE, f"{breach.check_name}/{breach.partition_key}"))


def _evidence(breach: Breach) -> dict:
    return {
        "check": breach.check_name,
        "partition": breach.partition_key,
        "value": breach.value,
        "threshold": breach.threshold,
        "diff_artifacts": breach.diff_artifacts,
    }


def _incident_markdown(breach: Breach, priority: str, summary: str) -> str:
    return "\n".join(
        [
            f"# {priority} incident {incident_id(breach)}: {summary}",
            "",
            f"- check: `{breach.check_name}` on canary day {breach.partition_key}",
            f"- value {breach.value} > threshold {breach.threshold}",
            f"- diff artifacts (mismatching V1/V2 pairs with outputs and hashes): `{breach.diff_artifacts}`",
            f"- canary report: `{Path(breach.diff_artifacts).with_name('canary.md')}`",
            "",
            REENABLE,
            "",
        ]
    )


def _write_incident_files(engine: sa.Engine, breach: Breach, incident_dir: Path) -> None:
    priority, summary = KINDS[breach.check_name]
    stem = incident_dir / f"{breach.partition_key}-{breach.check_name}-{incident_id(breach)[:8]}"
    json_path = write_json(
        stem.with_suffix(".json"),
        {
            "incident_id": incident_id(breach),
            "priority": priority,
            "summary": summary,
            "evidence": _evidence(breach),
            "how_to_reenable": REENABLE,
        },
    )
    md_path = write_text(stem.with_suffix(".md"), _incident_markdown(breach, priority, summary))
    with engine.begin() as conn:
        set_incident_files(conn, incident_id(breach), str(json_path), str(md_path))


def _open(conn: sa.Connection, breach: Breach) -> bool:
    priority, summary = KINDS[breach.check_name]
    opened = open_incident(
        conn,
        id=incident_id(breach),
        kind=breach.check_name,
        partition_key=breach.partition_key,
        priority=priority,
        summary=summary,
        evidence=_evidence(breach),
    )
    if opened:
        append_status(
            conn,
            tenant_id=SYSTEM_TENANT,
            entity_type="incident",
            entity_id=incident_id(breach),
            old_status=None,
            new_status="open",
            actor_type="sensor",
            actor_id="canary_drift_sensor",
            reason=summary,
            correlation_id=incident_id(breach),
            metadata=_evidence(breach),
        )
        append_status(
            conn,
            tenant_id=SYSTEM_TENANT,
            entity_type=CANARY_ENTITY,
            entity_id=breach.partition_key,
            old_status=None,
            new_status="fail",
            actor_type="sensor",
            actor_id="canary_drift_sensor",
            reason=f"{breach.check_name} breached",
            correlation_id=incident_id(breach),
        )
    return opened


def _alert(engine: sa.Engine, breach: Breach, notifier: SlackNotifier | None) -> None:
    priority, summary = KINDS[breach.check_name]
    text = (
        f"[{priority}] CostSim canary {breach.partition_key}: {summary} "
        f"(value {breach.value}, threshold {breach.threshold}). Diff: {breach.diff_artifacts}"
    )
    deliver_once(
        engine,
        dedupe_key=f"{breach.check_name}/{breach.partition_key}",
        payload={"text": text},
        notifier=notifier,
    )


def handle_breach(
    engine: sa.Engine, breach: Breach, incident_dir: Path, notifier: SlackNotifier | None
) -> str:
    """Act on one breached check; returns what was done (for the sensor's log)."""
    if breach.check_name == "median_shift_p2":
        _alert(engine, breach, notifier)
        return "alerted"
    with engine.begin() as conn:
        if breach.check_name == "drift_p1":
            moved = transition_routing(
                conn,
                to_state="disabled",
                actor_type="sensor",
                actor_id="canary_drift_sensor",
                reason=KINDS["drift_p1"][1],
                incident_id=incident_id(breach),
            )
            if moved is None:
                return "already disabled: no new incident"
        opened = _open(conn, breach)
    if not opened:
        return "incident exists"
    _write_incident_files(engine, breach, incident_dir)
    _alert(engine, breach, notifier)
    return "incident opened"
