"""PostgreSQL row-level security and privileges on the history tables, through the app role."""

import uuid

import pytest
import sqlalchemy as sa

from costsim_assets.store.engine import head_revision, make_engine, provision_app_role, upgrade_to_head
from costsim_assets.store.history_queries import history_page, iter_history
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.tenancy import tenant_scope


def append(conn, tenant):
    return append_status(
        conn,
        tenant_id=tenant,
        entity_type="job",
        entity_id="e",
        old_status=None,
        new_status="ok",
        actor_type="sensor",
        actor_id="s",
        reason="r",
    )


@pytest.fixture
def app_engine(postgres_database_factory):
    """(owner engine, app-role engine) on a migrated database with rows of two tenants and the system."""
    url = postgres_database_factory()
    owner = make_engine(url)
    upgrade_to_head(owner)
    role = f"costsim_app_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        provision_app_role(conn, role, "app-secret")
        provision_app_role(conn, role, "app-secret")  # idempotent
        for tenant in ("tenant-a", "tenant-a", "tenant-b", SYSTEM_TENANT):
            append(conn, tenant)
    app = make_engine(sa.make_url(url).set(username=role, password="app-secret").render_as_string(False))
    yield owner, app
    app.dispose()
    with owner.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    owner.dispose()


def tenants_seen(conn, scope_sql):
    if scope_sql is not None:
        conn.exec_driver_sql(f"SET LOCAL costsim.tenant = '{scope_sql}'")
    return sorted(r[0] for r in conn.exec_driver_sql("SELECT tenant_id FROM status_history"))


def test_a_query_without_where_sees_only_the_scoped_tenant(app_engine):
    _, app = app_engine
    with app.begin() as conn:
        assert tenants_seen(conn, "tenant-a") == ["tenant-a", "tenant-a"]
    with app.begin() as conn:
        assert tenants_seen(conn, None) == []
    with app.begin() as conn:
        assert tenants_seen(conn, "*") == [SYSTEM_TENANT, "tenant-a", "tenant-a", "tenant-b"]
    with app.begin() as conn:
        tenant_scope(conn, "tenant-b")
        assert tenants_seen(conn, None) == ["tenant-b"]
    with app.connect() as conn:
        assert [
            r["tenant_id"]
            for r in history_page(conn, tenant_id="tenant-b", filters={}, after_id=None, limit=10)
        ] == ["tenant-b"]
    with app.connect() as conn:
        assert len(list(iter_history(conn, tenant_id=None, filters={}))) == 4


def test_the_app_role_appends_only_within_its_scope(app_engine):
    _, app = app_engine
    with app.begin() as conn:
        assert append(conn, "tenant-a")["seq"] == 3
        assert append(conn, SYSTEM_TENANT)["seq"] == 2
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), app.begin() as conn:
        tenant_scope(conn, "tenant-a")
        conn.exec_driver_sql(
            "INSERT INTO status_history (tenant_id, seq, entity_type, entity_id, new_status, "
            "actor_type, actor_id, reason, metadata, created_at, prev_hash, chain_hash) "
            "VALUES ('tenant-b', 9, 'x', 'x', 'x', 'x', 'x', 'x', '{}', 'x', 'x', 'x')"
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE status_history SET reason = 'x'",
        "DELETE FROM status_history",
        "TRUNCATE status_history",
        "UPDATE status_history_exports SET role = 'x'",
        "DELETE FROM status_history_exports",
    ],
)
def test_the_app_role_cannot_change_history(app_engine, statement):
    owner, app = app_engine
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app.begin() as conn:
        tenant_scope(conn, None)
        conn.exec_driver_sql(statement)
    if "exports" not in statement:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), owner.begin() as conn:
            conn.exec_driver_sql(statement)
    with owner.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM status_history").scalar_one() == 4


def test_the_app_role_still_runs_the_other_tables(app_engine):
    _, app = app_engine
    with app.begin() as conn:
        conn.exec_driver_sql("UPDATE routing_state SET reason = reason")
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == head_revision()


def test_history_changes_are_refused_on_every_backend(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        append(conn, "tenant-a")
    for statement in ("UPDATE status_history SET reason = 'x'", "DELETE FROM status_history"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(statement)
    engine.dispose()


def test_star_is_not_a_tenant(database_url):
    engine = make_engine(database_url)
    with pytest.raises(ValueError, match="not a tenant"), engine.connect() as conn:
        tenant_scope(conn, "*")
    engine.dispose()
