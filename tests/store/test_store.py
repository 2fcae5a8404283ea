"""Store behaviour proven on both SQLite and PostgreSQL: migrations, round-trips, atomicity."""

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from costsim_assets.store import engine as store_engine
from costsim_assets.store.engine import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    upgrade_to_head,
)
from costsim_assets.store.schema_errors import count_schema_errors, list_schema_errors, record_schema_errors
from costsim_assets.store.tables import metadata, schema_errors, validation_reports
from costsim_assets.store.validation_reports import latest_validation_reports, record_validation_report

REVISIONS = [
    importlib.import_module(f"costsim_assets.store.migrations.versions.{name}")
    for name in (
        "0001_initial",
        "0002_sandbox_routing_history",
        "0003_canary_incidents",
        "0004_history_exports_rls",
        "0005_outcomes",
        "0006_killswitch",
        "0007_model_registry",
    )
]
NESTED_METRICS = {
    "ks": {"statistic": 0.125, "p_value": 0.5, "n": [1000, 998]},
    "quantiles": {"p50": 10.25, "p99": 1e6, "missing": None},
    "flags": [True, False, {"deep": {"deeper": ["ü", "ok"]}}],
    "count": 42,
}


def _report(**overrides: Any) -> dict[str, Any]:
    """A valid report with only the fields a test cares about changed."""
    report = {
        "dataset": "claims",
        "version": "v1",
        "model_version": "m-1",
        "code_version": "abc123",
        "verdict": "pass",
        "reasons": [],
        "metrics": {"rows": 1},
        "report_json_path": "reports/claims.json",
        "report_md_path": "reports/claims.md",
    }
    return report | overrides


def _error(record_id: str, raw_record: object = "{}") -> dict[str, object]:
    """A schema error mapping as validation code produces it."""
    return {
        "record_id": record_id,
        "field_path": "$.cost",
        "reason": "not a number",
        "raw_record": raw_record,
    }


def _row_count(engine: sa.Engine, table: sa.Table) -> int:
    """Count rows in a fresh connection, i.e. what other sessions can see."""
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_upgrade_reaches_head_and_is_idempotent(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision() == "0007"
    assert {"validation_reports", "schema_errors"} <= set(sa.inspect(engine).get_table_names())


def test_migrations_match_table_definitions(migrated_engine: sa.Engine) -> None:
    with migrated_engine.connect() as conn:
        assert (
            compare_metadata(MigrationContext.configure(conn, opts={"include_schemas": True}), metadata) == []
        )


def test_downgrade_to_base_and_back(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(migrated_engine) is None
    assert "validation_reports" not in sa.inspect(migrated_engine).get_table_names()
    upgrade_to_head(migrated_engine)
    assert current_revision(migrated_engine) == head_revision()


def test_revisions_ship_in_package_and_build_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        context = MigrationContext.configure(conn, opts={"include_schemas": True})
        with Operations.context(context):
            for revision in REVISIONS:
                revision.upgrade()
            assert compare_metadata(context, metadata) == []
            for revision in reversed(REVISIONS):
                revision.downgrade()
    assert sa.inspect(engine).get_table_names() == []
    assert REVISIONS[-1].revision == head_revision()
    assert [r.down_revision for r in REVISIONS] == [None, *(r.revision for r in REVISIONS[:-1])]


def test_ddl_is_transactional(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
        raise RuntimeError("abort")
    assert "scratch" not in sa.inspect(engine).get_table_names()


def test_head_revision_requires_migrations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    monkeypatch.setattr(store_engine, "MIGRATIONS_DIR", tmp_path)
    head_revision.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="no migrations"):
            head_revision()
    finally:
        head_revision.cache_clear()


def test_sqlite_engine_creates_parent_dir_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    engine.dispose()
    assert path.exists()


def test_bare_postgresql_url_uses_installed_driver() -> None:
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg2"
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_sqlite_in_memory_needs_no_directory(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
    engine.dispose()


def test_latest_validation_reports_per_dataset_and_version(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        record_validation_report(conn, **_report(verdict="fail", run_id="r1"))
        newest = record_validation_report(conn, **_report(verdict="warn", reasons=["drift"], run_id="r2"))
        record_validation_report(conn, **_report(dataset="abc", version="v2", verdict="no_data"))
        record_validation_report(conn, **_report(version="v2"))
    with migrated_engine.connect() as conn:
        latest = latest_validation_reports(conn)
    assert [(r["dataset"], r["version"], r["verdict"]) for r in latest] == [
        ("abc", "v2", "no_data"),
        ("claims", "v1", "warn"),
        ("claims", "v2", "pass"),
    ]
    claims_v1 = latest[1]
    assert claims_v1["id"] == newest
    assert claims_v1["reasons"] == ["drift"]
    assert claims_v1["run_id"] == "r2"
    assert set(claims_v1) == set(validation_reports.c.keys())


def test_latest_prefers_later_created_at_over_id(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        later = record_validation_report(conn, **_report(verdict="fail"))
        earlier = record_validation_report(conn, **_report())
        conn.execute(
            validation_reports.update()
            .where(validation_reports.c.id == earlier)
            .values(created_at=datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
        )
        assert [r["id"] for r in latest_validation_reports(conn)] == [later]


def test_created_at_is_timezone_aware(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        record_validation_report(conn, **_report())
        record_schema_errors(conn, "api", [_error("1")])
        report = latest_validation_reports(conn)[0]
        error = list_schema_errors(conn, "api")[0]
    assert report["created_at"].utcoffset() is not None
    assert error["created_at"].utcoffset() is not None


def test_metrics_json_round_trip_keeps_nesting(migrated_engine: sa.Engine) -> None:
    with migrated_engine.begin() as conn:
        record_validation_report(conn, **_report(metrics=NESTED_METRICS, reasons=["a", "b"]))
    with migrated_engine.connect() as conn:
        (report,) = latest_validation_reports(conn)
    assert report["metrics"] == NESTED_METRICS
    assert report["reasons"] == ["a", "b"]


@pytest.mark.parametrize("bad", [{"verdict": "maybe"}, {"version": "v3"}])
def test_check_constraints_reject_unknown_values(migrated_engine: sa.Engine, bad: dict[str, str]) -> None:
    with pytest.raises(sa.exc.IntegrityError), migrated_engine.begin() as conn:
        record_validation_report(conn, **_report(**bad))
    assert _row_count(migrated_engine, validation_reports) == 0


def test_schema_errors_bulk_insert_count_and_list(migrated_engine: sa.Engine) -> None:
    errors = (_error(str(i)) for i in range(3))
    with migrated_engine.begin() as conn:
        assert record_schema_errors(conn, "claims", errors, run_id="run-7") == 3
        assert record_schema_errors(conn, "api", [_error("x", raw_record={"b": 1, "a": [2]})]) == 1
        assert record_schema_errors(conn, "api", []) == 0
    with migrated_engine.connect() as conn:
        assert count_schema_errors(conn) == 4
        assert count_schema_errors(conn, "claims") == 3
        assert count_schema_errors(conn, "nobody") == 0
        listed = list_schema_errors(conn, "claims", limit=2)
        (api_error,) = list_schema_errors(conn, "api")
    assert [e["record_id"] for e in listed] == ["2", "1"]
    assert {e["run_id"] for e in listed} == {"run-7"}
    assert listed[0]["field_path"] == "$.cost" and listed[0]["reason"] == "not a number"
    assert api_error["raw_record"] == '{"a": [2], "b": 1}'
    assert api_error["run_id"] is None


def test_failed_transaction_leaves_no_rows(migrated_engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), migrated_engine.begin() as conn:
        record_validation_report(conn, **_report())
        record_schema_errors(conn, "claims", [_error("1"), _error("2")])
        raise RuntimeError("crash midway")
    assert _row_count(migrated_engine, validation_reports) == 0
    assert _row_count(migrated_engine, schema_errors) == 0


def test_bad_row_in_bulk_insert_rolls_back_whole_batch(migrated_engine: sa.Engine) -> None:
    batch = [_error("1"), {**_error("2"), "reason": None}, _error("3")]
    with pytest.raises(sa.exc.IntegrityError), migrated_engine.begin() as conn:
        record_validation_report(conn, **_report())
        record_schema_errors(conn, "claims", batch)
    assert _row_count(migrated_engine, schema_errors) == 0
    assert _row_count(migrated_engine, validation_reports) == 0
