"""`costsim db provision-roles` on a real PostgreSQL: migrates, then the app role reads history under
row-level security and cannot change it, and the sandbox role reaches the sandbox schema only."""

import uuid

import pytest
import sqlalchemy as sa

from costsim_assets.cli import main
from costsim_assets.store.engine import current_revision, head_revision, make_engine
from costsim_assets.store.status_history import SYSTEM_TENANT, append_status
from costsim_assets.store.tenancy import tenant_scope


def as_role(url: str, role: str, password: str) -> sa.Engine:
    return make_engine(sa.make_url(url).set(username=role, password=password).render_as_string(False))


def test_provision_roles_migrates_and_grants(postgres_database_factory, monkeypatch, capsys):
    url = postgres_database_factory()
    suffix = uuid.uuid4().hex[:8]
    roles = {"COSTSIM_APP_DB_ROLE": f"app_{suffix}", "COSTSIM_SANDBOX_DB_ROLE": f"sandbox_{suffix}"}
    for name, value in {
        "COSTSIM_DATABASE_URL": url,
        **roles,
        "COSTSIM_APP_DB_PASSWORD": "app-pw",
        "COSTSIM_SANDBOX_DB_PASSWORD": "sandbox-pw",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["db", "provision-roles"]) == 0
    assert main(["db", "provision-roles"]) == 0  # idempotent: run after every migration
    assert roles["COSTSIM_APP_DB_ROLE"] in capsys.readouterr().out
    owner = make_engine(url)
    assert current_revision(owner) == head_revision()
    with owner.begin() as conn:
        append_status(
            conn,
            tenant_id=SYSTEM_TENANT,
            entity_type="v2_routing",
            entity_id="costsim_v2",
            old_status="enabled",
            new_status="disabled",
            actor_type="person",
            actor_id="oncall",
            reason="drill",
        )
    app = as_role(url, roles["COSTSIM_APP_DB_ROLE"], "app-pw")
    with app.begin() as conn:
        tenant_scope(conn, "tenant-a")
        assert conn.exec_driver_sql("SELECT tenant_id FROM status_history").scalars().all() == [SYSTEM_TENANT]
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app.begin() as conn:
        conn.exec_driver_sql("DELETE FROM status_history")
    sandbox = as_role(url, roles["COSTSIM_SANDBOX_DB_ROLE"], "sandbox-pw")
    with sandbox.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sandbox.provenance").scalar_one() == 0
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), sandbox.connect() as conn:
        conn.exec_driver_sql("SELECT * FROM routing_state")
    for engine in (app, sandbox):
        engine.dispose()
    with owner.begin() as conn:
        for role in roles.values():
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
    owner.dispose()
