"""The documented PostgreSQL instance config (deploy/dagster/dagster-postgres.yaml) really works."""

import sqlalchemy as sa

from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.store.engine import make_engine
from tests.dagster.conftest import make_resources, repo_instance


def test_runs_are_stored_in_postgresql(tmp_path, postgres_database_factory):
    databases = []

    def database() -> str:
        databases.append(postgres_database_factory())
        return databases[-1]

    resources = make_resources(tmp_path / "a", f"sqlite:///{tmp_path}/s.db")
    job = build_definitions(resources).resolve_job_def("m6_validation")
    with repo_instance("postgresql", tmp_path / "dagster_home", database) as instance:
        result = job.execute_in_process(instance=instance, asset_selection=[keys.MODEL])
        assert result.success
        assert instance.get_run_by_id(result.run_id) is not None
    engine = make_engine(databases[0])
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from runs")).scalar() == 1
    engine.dispose()
