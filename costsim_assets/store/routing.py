"""The V2 routing state machine, persisted in the database with compare-and-set transitions.

enabled -> disabled (drift sensor with an incident id, or a person); disabled -> enabled (a person,
or N consecutive passing canaries when configured). Each transition appends a status-history row
in the same transaction; a transition that lost a race or changes nothing returns None.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.tables import routing_state

LOG = logging.getLogger(__name__)
ROUTING_ENTITY = ("v2_routing", "costsim_v2")


@dataclass(frozen=True)
class RoutingState:
    state: str
    revision: int
    updated_at: datetime
    actor_type: str
    actor_id: str
    reason: str
    incident_id: str | None
    model_version: str | None = None

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"


def read_routing_state(conn: sa.Connection) -> RoutingState:
    row = conn.execute(sa.select(routing_state).where(routing_state.c.id == 1)).mappings().one()
    return RoutingState(**{k: row[k] for k in RoutingState.__dataclass_fields__})


def transition_routing(
    conn: sa.Connection,
    *,
    to_state: str,
    actor_type: str,
    actor_id: str,
    reason: str,
    incident_id: str | None = None,
) -> RoutingState | None:
    """Move to `to_state` if not already there and nobody moved first; record it in history."""
    current = read_routing_state(conn)
    if current.state == to_state:
        return None
    values = {
        "state": to_state,
        "revision": current.revision + 1,
        "updated_at": datetime.now(UTC),
        "actor_type": actor_type,
        "actor_id": actor_id,
        "reason": reason,
        "incident_id": incident_id,
        "model_version": current.model_version,
    }
    updated = conn.execute(
        sa.update(routing_state)
        .where(routing_state.c.id == 1)
        .where(routing_state.c.revision == current.revision)
        .values(**values)
    )
    if updated.rowcount != 1:
        return None
    entity_type, entity_id = ROUTING_ENTITY
    append_status(
        conn,
        tenant_id=SYSTEM_TENANT,
        entity_type=entity_type,
        entity_id=entity_id,
        old_status=current.state,
        new_status=to_state,
        actor_type=actor_type,
        actor_id=actor_id,
        reason=reason,
        correlation_id=incident_id,
        metadata={"revision": values["revision"]},
    )
    return RoutingState(**values)


def routing_enabled_fail_safe(engine: sa.Engine) -> bool:
    """Whether routing lets V2 run; a state that cannot be read means it does not (fail-safe)."""
    try:
        with engine.connect() as conn:
            return read_routing_state(conn).enabled
    except sa.exc.SQLAlchemyError:
        LOG.exception("routing state unreadable: V2 does not run (fail-safe)")
        return False
