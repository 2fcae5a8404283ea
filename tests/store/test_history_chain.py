"""Status history: append-only at the database, per-tenant sequence and verifiable hash chain."""

import pytest
import sqlalchemy as sa

from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.status_history import append_status, first_broken_link
from costsim_assets.store.tables import status_history


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def append(conn, tenant, status):
    return append_status(
        conn,
        tenant_id=tenant,
        entity_type="canary",
        entity_id="2026-11-25",
        old_status=None,
        new_status=status,
        actor_type="sensor",
        actor_id="s",
        reason="r",
        metadata={"n": 1},
    )


def rows(engine):
    with engine.connect() as conn:
        query = sa.select(status_history).order_by(status_history.c.tenant_id, status_history.c.seq)
        return [dict(r) for r in conn.execute(query).mappings()]


def test_sequence_and_chain_per_tenant(engine):
    with engine.begin() as conn:
        for tenant, status in [("a", "pass"), ("b", "pass"), ("a", "fail"), ("a", "pass")]:
            append(conn, tenant, status)
    stored = rows(engine)
    assert [(r["tenant_id"], r["seq"]) for r in stored] == [("a", 1), ("a", 2), ("a", 3), ("b", 1)]
    assert stored[1]["prev_hash"] == stored[0]["chain_hash"]
    assert first_broken_link(stored) is None


def test_tampering_is_named(engine):
    with engine.begin() as conn:
        for status in ("pass", "fail", "pass"):
            append(conn, "a", status)
    stored = rows(engine)
    stored[1] = {**stored[1], "new_status": "pass"}
    assert first_broken_link(stored) == {
        "tenant_id": "a",
        "seq": 2,
        "problem": "chain_hash does not match the row's content",
    }
    assert first_broken_link([stored[0], stored[2]])["problem"] == "sequence gap: expected 2, found 3"
    relinked = {**stored[2], "seq": 2}
    assert first_broken_link([stored[0], relinked])["problem"].startswith("prev_hash")


@pytest.mark.parametrize(
    "statement", ["UPDATE status_history SET reason = 'x'", "DELETE FROM status_history"]
)
def test_rows_cannot_be_changed_or_removed(engine, statement):
    with engine.begin() as conn:
        append(conn, "a", "pass")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert len(rows(engine)) == 1


def test_truncate_is_rejected_on_postgresql(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE status_history")


def test_routing_transitions_are_compare_and_set(engine):
    with engine.begin() as conn:
        assert read_routing_state(conn).state == "enabled"
        first = transition_routing(
            conn, to_state="disabled", actor_type="sensor", actor_id="drift", reason="P1", incident_id="inc-1"
        )
        assert first.revision == 1 and first.incident_id == "inc-1"
        assert (
            transition_routing(
                conn, to_state="disabled", actor_type="sensor", actor_id="drift", reason="again"
            )
            is None
        )
    assert [r["correlation_id"] for r in rows(engine)] == ["inc-1"]


def test_a_stale_writer_loses_the_race(engine, monkeypatch):
    import costsim_assets.store.routing as routing

    with engine.begin() as conn:
        stale = read_routing_state(conn)
        transition_routing(conn, to_state="disabled", actor_type="person", actor_id="p", reason="first")
        monkeypatch.setattr(routing, "read_routing_state", lambda _: stale)  # it read before the first commit
        assert (
            transition_routing(conn, to_state="disabled", actor_type="sensor", actor_id="s", reason="second")
            is None
        )
    assert len(rows(engine)) == 1
