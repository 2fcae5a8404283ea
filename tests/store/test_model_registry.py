"""The model registry on both databases: bootstrap, challenger validation, audited promotion."""

import pytest
import sqlalchemy as sa

from costsim_assets.store.models import (
    PromotionRefused,
    champion,
    pending_challenger,
    promote,
    record_validation,
    register_bootstrap,
    register_challenger,
    serving_artifact,
)
from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.tables import status_history


def artifact(version: str) -> dict:
    return {"schema": "test", "version": version, "coefficients": [1, 2, 3]}


def model_history(conn) -> list[tuple]:
    rows = conn.execute(
        sa.select(status_history)
        .where(status_history.c.entity_type == "v2_model")
        .order_by(status_history.c.id)
    ).mappings()
    return [(r["old_status"], r["new_status"], r["actor_type"]) for r in rows]


def test_bootstrap_once_then_serving(migrated_engine):
    with migrated_engine.begin() as conn:
        assert serving_artifact(conn) is None
        assert register_bootstrap(conn, artifact("v2-a")) is True
        assert register_bootstrap(conn, artifact("v2-other")) is False
    with migrated_engine.connect() as conn:
        assert champion(conn)["version"] == "v2-a" and serving_artifact(conn) == artifact("v2-a")
        assert read_routing_state(conn).model_version == "v2-a"
        assert model_history(conn) == [(None, "v2-a", "system")]


def test_challenger_validates_on_unseen_days_then_a_person_promotes(migrated_engine):
    with migrated_engine.begin() as conn:
        register_bootstrap(conn, artifact("v2-a"))
        assert register_challenger(conn, artifact("v2-b"), ("2026-11-01", "2026-11-03"))
        assert not register_challenger(conn, artifact("v2-b"), ("2026-11-01", "2026-11-03"))
        with pytest.raises(ValueError, match="inside the challenger's fitting window"):
            record_validation(conn, "v2-b", "2026-11-03", True, "ok", required_days=2)
        with pytest.raises(PromotionRefused, match="challenger"):
            promote(conn, "v2-b", actor_type="person", actor_id="ops", reason="too early")
        assert (
            record_validation(conn, "v2-b", "2026-11-04", True, "calibrated", required_days=2) == "challenger"
        )
        assert record_validation(conn, "v2-b", "2026-11-04", True, "rerun", required_days=2) == "challenger"
        assert (
            record_validation(conn, "v2-b", "2026-11-05", True, "calibrated", required_days=2) == "validated"
        )
        # The champion keeps serving until a promotion, and routing transitions keep the version.
        assert serving_artifact(conn)["version"] == "v2-a"
        transition_routing(conn, to_state="disabled", actor_type="sensor", actor_id="s", reason="P1")
        assert read_routing_state(conn).model_version == "v2-a"
        moved = promote(conn, "v2-b", actor_type="person", actor_id="ops", reason="validated on 2 days")
    with migrated_engine.connect() as conn:
        assert moved["from"] == "v2-a" and moved["to"] == "v2-b"
        assert serving_artifact(conn)["version"] == "v2-b" and pending_challenger(conn) is None
        state = read_routing_state(conn)
        assert (
            state.model_version == "v2-b"
            and state.state == "disabled"
            and state.revision == moved["revision"]
        )
        assert model_history(conn) == [
            (None, "v2-a", "system"),
            ("v2-a", "v2-b", "dagster"),
            ("challenger", "validated", "dagster"),
            ("v2-a", "v2-b", "person"),
        ]


def test_a_failed_unseen_day_rejects_the_challenger(migrated_engine):
    with migrated_engine.begin() as conn:
        register_bootstrap(conn, artifact("v2-a"))
        register_challenger(conn, artifact("v2-c"), ("2026-11-01", "2026-11-01"))
        assert (
            record_validation(conn, "v2-c", "2026-11-02", False, "coverage 0.61", required_days=2)
            == "rejected"
        )
        assert record_validation(conn, "v2-c", "2026-11-03", True, "ok", required_days=2) == "rejected"
        assert pending_challenger(conn) is None
        with pytest.raises(PromotionRefused, match="rejected"):
            promote(conn, "v2-c", actor_type="person", actor_id="ops", reason="try anyway")
        with pytest.raises(PromotionRefused, match="unknown"):
            promote(conn, "v2-nope", actor_type="person", actor_id="ops", reason="typo")
    with migrated_engine.connect() as conn:
        assert champion(conn)["version"] == "v2-a"
