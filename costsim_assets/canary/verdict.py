"""The canary verdict in the status history, and hysteresis: re-enable only after N passes."""

from __future__ import annotations

from itertools import takewhile

import sqlalchemy as sa

from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status, latest_statuses

CANARY_ENTITY = "canary_verdict"
TENANT_ENTITY = "canary_tenant_verdict"


def consecutive_passes(conn: sa.Connection) -> int:
    """How many of the most recent canary verdicts in a row were passes."""
    statuses = latest_statuses(conn, SYSTEM_TENANT, CANARY_ENTITY)
    return sum(1 for _ in takewhile(lambda status: status == "pass", statuses))


def record_canary_verdict(
    conn: sa.Connection, partition_key: str, reenable_after: int, verdict: str = "pass"
) -> dict:
    """Append the day's verdict; with `reenable_after` > 0, N passes in a row re-enable V2."""
    append_status(
        conn,
        tenant_id=SYSTEM_TENANT,
        entity_type=CANARY_ENTITY,
        entity_id=partition_key,
        old_status=None,
        new_status=verdict,
        actor_type="canary",
        actor_id="daily_canary",
        reason=f"canary {verdict} for {partition_key}",
    )
    passes = consecutive_passes(conn)
    reenabled = False
    if reenable_after > 0 and passes >= reenable_after and not read_routing_state(conn).enabled:
        reenabled = (
            transition_routing(
                conn,
                to_state="enabled",
                actor_type="canary",
                actor_id="daily_canary",
                reason=f"{passes} consecutive passing canaries",
            )
            is not None
        )
    return {"verdict": verdict, "consecutive_passes": passes, "reenabled": reenabled}


def record_tenant_verdicts(
    conn: sa.Connection, partition_key: str, views: dict[str, dict], model_version: str
) -> int:
    """One status-history row per tenant, under that tenant: its auditor reads its own verdict."""
    for tenant, view in views.items():
        append_status(
            conn,
            tenant_id=tenant,
            entity_type=TENANT_ENTITY,
            entity_id=partition_key,
            old_status=None,
            new_status=view["status"],
            actor_type="canary",
            actor_id="daily_canary",
            reason=view["reason"][:2000],
            metadata={
                "model_version": model_version,
                "outcome_steps": view["outcome_steps"],
                "output_tokens_drift": view["output_tokens_drift"],
                "moved": view["moved"],
            },
        )
    return len(views)
