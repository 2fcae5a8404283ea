"""The documented PostgreSQL instance config (deploy/dagster/dagster-postgres.yaml) really works."""

import shutil

import dagster as dg
import sqlalchemy as sa

from costsim_assets.definitions import build_definitions
from costsim_assets.store.engine import make_engine
from tests.dagster.conftest import make_resources


def test_runs_are_stored_in_postgresql(tmp_path, monkeypatch, postgres_database_factory):
    url = sa.make_url(postgres_database_factory())
    for name, value in {
        "HOST": url.host,
        "PORT": str(url.port or 5432),
        "USER": url.username,
        "PASSWORD": url.password or "",
        "DB": url.database,
    }.items():
        monkeypatch.setenv(f"DAGSTER_PG_{name}", value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy("deploy/dagster/dagster-postgres.yaml", home / "dagster.yaml")
    resources = make_resources(tmp_path / "a", f"sqlite:///{tmp_path}/s.db")
    job = build_definitions(resources).resolve_job_def("m6_validation")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey(["models", "v2_model"])],
            partition_key="2026-11-25",
        )
        assert result.success
        assert instance.get_run_by_id(result.run_id) is not None
    engine = make_engine(url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from runs")).scalar() == 1
    engine.dispose()
