"""V2's code path can write the sandbox area and nothing else."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from costsim_assets.store.engine import (
    make_engine,
    make_sandbox_engine,
    provision_sandbox_role,
    upgrade_to_head,
)
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.tables import provenance, validation_reports


def provenance_row() -> dict:
    return {
        "id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC),
        "tenant_id": "t",
        "request_id": "r",
        "plan_z": compress({}),
        "code_version": "test",
        "v2_status": "pending",
    }


def report_row() -> dict:
    return {
        "dataset": "d",
        "version": "v2",
        "model_version": "m",
        "code_version": "c",
        "verdict": "pass",
        "reasons": [],
        "metrics": {},
        "report_json_path": "x",
        "report_md_path": "y",
    }


def test_sqlite_sandbox_engine_cannot_see_production_tables(tmp_path):
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade_to_head(make_engine(url))
    sandbox = make_sandbox_engine(url)
    with sandbox.begin() as conn:
        insert_provenance(conn, [provenance_row()])
    with (
        pytest.raises(sa.exc.OperationalError, match="no such table: validation_reports"),
        sandbox.begin() as conn,
    ):
        conn.execute(sa.insert(validation_reports).values(**report_row()))
    with make_engine(url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(provenance)).scalar() == 1


def test_postgresql_sandbox_role_is_refused_production_writes(postgres_database_factory):
    url = postgres_database_factory()
    admin = make_engine(url)
    upgrade_to_head(admin)
    role = f"costsim_sandbox_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        provision_sandbox_role(conn, role, "sandbox-secret")
        provision_sandbox_role(conn, role, "rotated-secret")  # idempotent: re-run rotates the password
    sandbox_url = sa.make_url(url).set(username=role, password="rotated-secret").render_as_string(False)
    sandbox = make_sandbox_engine(url, sandbox_url)
    try:
        with sandbox.begin() as conn:
            insert_provenance(conn, [provenance_row()])
        for table in ("validation_reports", "status_history", "routing_state"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), sandbox.begin() as conn:
                conn.exec_driver_sql(f"DELETE FROM public.{table}")
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), sandbox.begin() as conn:
            conn.execute(sa.insert(validation_reports).values(**report_row()))
    finally:
        sandbox.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
