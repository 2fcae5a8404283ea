"""history_page and iter_history: tenant predicate, every filter, keyset order, streaming."""

import pytest

from costsim_assets.store.history_queries import history_page, iter_history
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status


def append(conn, tenant="a", **fields):
    values = {
        "entity_type": "job",
        "entity_id": "e1",
        "new_status": "ok",
        "actor_type": "sensor",
        "actor_id": "s1",
    } | fields
    return append_status(conn, tenant_id=tenant, old_status=None, reason="r", **values)["id"]


@pytest.fixture
def seeded(migrated_engine):
    with migrated_engine.begin() as conn:
        made = {
            "base": append(conn),
            "b": append(conn, tenant="b"),
            "entity_type": append(conn, entity_type="canary"),
            "entity_id": append(conn, entity_id="e2"),
            "new_status": append(conn, new_status="failed"),
            "actor_type": append(conn, actor_type="person"),
            "actor_id": append(conn, actor_id="s2"),
        }
    return migrated_engine, made


def page(engine, tenant_id="a", after_id=None, limit=100, **filters):
    with engine.connect() as conn:
        return [
            r["id"]
            for r in history_page(conn, tenant_id=tenant_id, filters=filters, after_id=after_id, limit=limit)
        ]


def test_tenant_predicate_unless_admin(seeded):
    engine, made = seeded
    assert made["b"] not in page(engine) and page(engine, tenant_id="b") == [made["b"]]
    assert len(page(engine, tenant_id=None)) == 7


def test_every_tenant_reads_the_global_events_and_only_its_own(migrated_engine):
    with migrated_engine.begin() as conn:
        own = {tenant: append(conn, tenant=tenant) for tenant in ("a", "b")}
        global_event = append(conn, tenant=SYSTEM_TENANT, entity_type="v2_routing")
    assert page(migrated_engine, tenant_id="a") == [own["a"], global_event]
    assert page(migrated_engine, tenant_id="b") == [own["b"], global_event]
    assert page(migrated_engine, tenant_id=SYSTEM_TENANT) == [global_event]
    with migrated_engine.connect() as conn:
        streamed = [r["id"] for r in iter_history(conn, tenant_id="b", filters={})]
    assert streamed == [own["b"], global_event]


@pytest.mark.parametrize(
    "name,value",
    [
        ("entity_type", "canary"),
        ("entity_id", "e2"),
        ("new_status", "failed"),
        ("actor_type", "person"),
        ("actor_id", "s2"),
    ],
)
def test_each_equality_filter(seeded, name, value):
    engine, made = seeded
    assert page(engine, **{name: value}) == [made[name]]


def test_created_range_is_half_open(seeded):
    engine, made = seeded
    with engine.connect() as conn:
        rows = history_page(conn, tenant_id="a", filters={}, after_id=None, limit=100)
    pivot = rows[2]["created_at"]
    assert page(engine, created_from=pivot) == [r["id"] for r in rows[2:]]
    assert page(engine, created_to=pivot) == [r["id"] for r in rows[:2]]


def test_keyset_pages_and_unknown_filters(seeded):
    engine, _ = seeded
    everything = page(engine)
    assert page(engine, limit=2) + page(engine, after_id=everything[1], limit=100) == everything
    assert page(engine, after_id=everything[-1]) == []
    with pytest.raises(ValueError, match="unknown history filters"):
        page(engine, tenant="b")


def test_iter_history_streams_in_batches(seeded):
    engine, _ = seeded
    with engine.connect() as conn:
        streamed = [r["id"] for r in iter_history(conn, tenant_id="a", filters={}, batch=2)]
    assert streamed == page(engine)
