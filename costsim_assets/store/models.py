"""The V2 model registry: one champion serves; a challenger refitted on recent outcomes must pass on
days it was not fitted on before it may serve, and is promoted through an audited routing-state
change (compare-and-set on the routing revision plus a status-history row). Never a silent swap.

Roles: champion (serving) -> retired; challenger (validating) -> validated (promotable) or rejected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.routing import read_routing_state
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.tables import model_registry, routing_state

MODEL_ENTITY = ("v2_model", "costsim_v2")
PENDING_ROLES = ("challenger", "validated")


class PromotionRefused(RuntimeError):
    """The version is not a validated challenger, or the routing state moved meanwhile."""


def _row(conn: sa.Connection, where: sa.ColumnElement[bool]) -> dict[str, Any] | None:
    found = conn.execute(sa.select(model_registry).where(where).limit(1)).mappings().first()
    return dict(found) if found else None


def find_model(conn: sa.Connection, version: str) -> dict[str, Any] | None:
    return _row(conn, model_registry.c.version == version)


def champion(conn: sa.Connection) -> dict[str, Any] | None:
    """The serving model's registry row (None before the first bootstrap)."""
    return _row(conn, model_registry.c.role == "champion")


def pending_challenger(conn: sa.Connection) -> dict[str, Any] | None:
    """The challenger still validating or waiting for promotion (at most one at a time)."""
    return _row(conn, model_registry.c.role.in_(PENDING_ROLES))


def _history(
    conn: sa.Connection,
    old: str | None,
    new: str,
    actor: tuple[str, str],
    reason: str,
    metadata: dict[str, Any],
) -> None:
    entity_type, entity_id = MODEL_ENTITY
    append_status(
        conn,
        tenant_id=SYSTEM_TENANT,
        entity_type=entity_type,
        entity_id=entity_id,
        old_status=old,
        new_status=new,
        actor_type=actor[0],
        actor_id=actor[1],
        reason=reason,
        metadata=metadata,
    )


def _set_serving_version(conn: sa.Connection, version: str) -> int:
    """Compare-and-set the routing state's model version; returns the new revision."""
    current = read_routing_state(conn)
    moved = conn.execute(
        sa.update(routing_state)
        .where(routing_state.c.id == 1, routing_state.c.revision == current.revision)
        .values(model_version=version, revision=current.revision + 1, updated_at=datetime.now(UTC))
    )
    if moved.rowcount != 1:
        raise PromotionRefused("the routing state changed concurrently; retry")
    return current.revision + 1


def register_bootstrap(conn: sa.Connection, artifact: dict[str, Any]) -> bool:
    """Make `artifact` the champion when the registry has none (first run); False otherwise."""
    if champion(conn) is not None:
        return False
    conn.execute(
        sa.insert(model_registry).values(
            version=artifact["version"],
            created_at=datetime.now(UTC),
            role="champion",
            source="bootstrap",
            artifact=artifact,
            validation=[],
        )
    )
    revision = _set_serving_version(conn, artifact["version"])
    _history(
        conn,
        None,
        artifact["version"],
        ("system", "model_registry"),
        "bootstrap champion registered",
        {"revision": revision, "source": "bootstrap"},
    )
    return True


def register_challenger(conn: sa.Connection, artifact: dict[str, Any], window: tuple[str, str]) -> bool:
    """Add a challenger fitted on outcomes of days `window` (inclusive); False if that version exists."""
    if find_model(conn, artifact["version"]) is not None:
        return False
    conn.execute(
        sa.insert(model_registry).values(
            version=artifact["version"],
            created_at=datetime.now(UTC),
            role="challenger",
            source="outcomes",
            window_start=window[0],
            window_end=window[1],
            artifact=artifact,
            validation=[],
        )
    )
    current = champion(conn)
    _history(
        conn,
        current["version"] if current else None,
        artifact["version"],
        ("dagster", "v2_challenger"),
        f"challenger fitted on outcomes {window[0]}..{window[1]}; validating on later days",
        {"role": "challenger", "window": list(window)},
    )
    return True


def record_validation(
    conn: sa.Connection, version: str, day: str, passed: bool, detail: str, required_days: int
) -> str:
    """Add one unseen day's result (idempotent per day) and return the challenger's role after it:
    any failed day rejects it; `required_days` passing days validate it."""
    model = find_model(conn, version)
    if model is None or model["role"] not in PENDING_ROLES:
        return model["role"] if model else "unknown"
    if day <= (model["window_end"] or ""):
        raise ValueError(f"{day} is inside the challenger's fitting window (ends {model['window_end']})")
    days = {entry["day"]: entry for entry in model["validation"]}
    days[day] = {"day": day, "passed": passed, "detail": detail}
    results = sorted(days.values(), key=lambda entry: entry["day"])
    role = (
        "rejected"
        if not all(r["passed"] for r in results)
        else "validated"
        if len(results) >= required_days
        else "challenger"
    )
    conn.execute(
        sa.update(model_registry)
        .where(model_registry.c.version == version)
        .values(validation=results, role=role)
    )
    if role != model["role"]:
        _history(
            conn,
            model["role"],
            role,
            ("dagster", "v2_challenger"),
            f"challenger {version} {role} after {len(results)} unseen day(s): {detail}"[:2000],
            {"version": version, "days": [r["day"] for r in results]},
        )
    return role


def promote(
    conn: sa.Connection, version: str, *, actor_type: str, actor_id: str, reason: str
) -> dict[str, Any]:
    """Serve a validated challenger: the old champion retires, the routing state records the version."""
    model = find_model(conn, version)
    if model is None or model["role"] != "validated":
        role = model["role"] if model else "unknown"
        raise PromotionRefused(f"{version} is {role}: only a validated challenger can be promoted")
    old = champion(conn)
    if old is not None:
        conn.execute(
            sa.update(model_registry).where(model_registry.c.version == old["version"]).values(role="retired")
        )
    conn.execute(sa.update(model_registry).where(model_registry.c.version == version).values(role="champion"))
    revision = _set_serving_version(conn, version)
    _history(
        conn,
        old["version"] if old else None,
        version,
        (actor_type, actor_id),
        reason,
        {
            "revision": revision,
            "window": [model["window_start"], model["window_end"]],
            "validation_days": [r["day"] for r in model["validation"]],
        },
    )
    return {"from": old["version"] if old else None, "to": version, "revision": revision}


def serving_artifact(conn: sa.Connection) -> dict[str, Any] | None:
    """The artifact the routing state says serves (None before bootstrap: callers use the packaged one)."""
    version = conn.execute(sa.select(routing_state.c.model_version).where(routing_state.c.id == 1)).scalar()
    model = find_model(conn, version) if version else None
    return model["artifact"] if model else None
