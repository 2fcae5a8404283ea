"""Outcomes in the store on both databases: day reads in bounded batches, tenant scope, races, RLS."""

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa

import costsim_assets.sandbox.outcomes as reported
from costsim_assets.sandbox.outcomes import (
    ReportedOutcome,
    StepOutcome,
    outcome_rows,
    record_reported_outcomes,
)
from costsim_assets.store.engine import (
    make_engine,
    make_sandbox_engine,
    provision_sandbox_role,
    upgrade_to_head,
)
from costsim_assets.store.outcomes import (
    count_outcomes,
    find_requests,
    insert_outcomes,
    iter_outcome_batches,
)
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.tenancy import RLS_TABLES, tenant_scope

DAY = datetime(2026, 11, 20, tzinfo=UTC)
PLAN = {
    "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": 900}}, {"skill": "kv_get"}],
    "budget_cents": 50,
}
LLM = StepOutcome("llm_invoke", 0.4, "ok", "gpt-4o", 900, 120, None)
KV = StepOutcome("kv_get", 0.0, "ok", latency_ms=4.5)


def provenance_row(tenant: str, created_at: datetime, request_id: str | None = None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "created_at": created_at,
        "tenant_id": tenant,
        "request_id": request_id or uuid.uuid4().hex,
        "input_hash": "h" * 64,
        "plan_z": compress({**PLAN, "tenant_id": tenant}),
        "code_version": "test",
        "v1_version": "v1-m5-frozen",
        "v1_output_z": compress({"big": "blob"}),
        "v1_cost_cents": 5.0,
        "v2_status": "skipped",
    }


def record(conn, row: dict, steps=(LLM, KV), source="replay") -> None:
    ref = find_requests(conn, row["tenant_id"], [row["request_id"]])[row["request_id"]]
    request, step_rows = outcome_rows(
        ref.provenance_id,
        row["tenant_id"],
        row["request_id"],
        steps,
        received_at=DAY + timedelta(days=1),
        source=source,
    )
    insert_outcomes(conn, [request], step_rows, tenant_id=row["tenant_id"])


@pytest.fixture
def sandbox(migrated_engine, database_url):
    engine = make_sandbox_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def day_rows(sandbox):
    """Seven requests with outcomes in the day (two share a timestamp), one without, two outside it."""
    times = [DAY + timedelta(hours=h) for h in (1, 2, 2, 3, 5, 8, 23.9)]
    rows = [provenance_row("tenant-a" if i % 3 else "tenant-b", t) for i, t in enumerate(times)]
    silent = provenance_row("tenant-a", DAY + timedelta(hours=4))
    outside = [
        provenance_row("tenant-a", DAY - timedelta(seconds=1)),
        provenance_row("tenant-a", DAY + timedelta(days=1)),
    ]
    with sandbox.begin() as conn:
        insert_provenance(conn, [*rows, silent, *outside])
        for row in [*rows, *outside]:
            record(conn, row)
    return rows


def read_day(sandbox, **kwargs):
    with sandbox.connect() as conn:
        return list(iter_outcome_batches(conn, start=DAY, end=DAY + timedelta(days=1), **kwargs))


def test_a_day_is_read_in_bounded_keyset_batches(sandbox, day_rows):
    batches = read_day(sandbox, batch_size=3)
    assert [len(b.requests) for b in batches] == [3, 3, 1]
    ordered = sorted(day_rows, key=lambda r: (r["created_at"], r["id"]))
    assert [i for b in batches for i in b.requests["provenance_id"]] == [r["id"] for r in ordered]
    first = batches[0]
    assert list(first.requests.columns) == [
        "provenance_id",
        "tenant_id",
        "request_id",
        "created_at",
        "input_hash",
        "plan_z",
        "v1_version",
        "v1_cost_cents",
        "v2_status",
        "v2_version",
        "v2_cost_cents",
        "received_at",
        "source",
    ]
    assert str(first.requests["created_at"].dtype) == "datetime64[us, UTC]"
    assert (
        first.requests["v2_cost_cents"].dtype == np.float64 and first.requests["v2_cost_cents"].isna().all()
    )
    for batch in batches:
        assert set(batch.steps["provenance_id"]) == set(batch.requests["provenance_id"])
        assert batch.steps["step_index"].tolist() == [0, 1] * len(batch.requests)
    steps = first.steps
    assert steps.columns.tolist() == [
        "provenance_id",
        "step_index",
        "skill",
        "model",
        "input_tokens",
        "output_tokens",
        "cost_cents",
        "latency_ms",
        "status",
    ]
    assert steps["output_tokens"].iat[0] == 120.0 and np.isnan(steps["output_tokens"].iat[1])
    assert np.isnan(steps["latency_ms"].iat[0]) and steps["model"].isna().tolist()[:2] == [False, True]
    assert steps["latency_ms"].iat[1] == 4.5 and steps["latency_ms"].dtype == np.float64


def test_one_batch_when_it_fits_and_none_for_an_empty_day(sandbox, day_rows):
    [whole] = read_day(sandbox)
    assert len(whole.requests) == 7 and len(whole.steps) == 14
    with sandbox.connect() as conn:
        assert (
            list(iter_outcome_batches(conn, start=DAY - timedelta(days=5), end=DAY - timedelta(days=4))) == []
        )
    with pytest.raises(ValueError, match="batch_size"):
        read_day(sandbox, batch_size=0)


def test_reads_and_counts_filter_by_tenant(sandbox, day_rows):
    [only_b] = read_day(sandbox, tenant_id="tenant-b")
    assert set(only_b.requests["tenant_id"]) == {"tenant-b"} and len(only_b.requests) == 3
    assert set(only_b.steps["provenance_id"]) == set(only_b.requests["provenance_id"])
    with sandbox.connect() as conn:
        window = {"start": DAY, "end": DAY + timedelta(days=1)}
        assert count_outcomes(conn, **window) == {"tenant-a": 4, "tenant-b": 3}
        assert count_outcomes(conn, tenant_id="tenant-b", **window) == {"tenant-b": 3}


def test_writes_refuse_rows_of_another_tenant(sandbox):
    row = provenance_row("tenant-b", DAY)
    with sandbox.begin() as conn:
        insert_provenance(conn, [row])
        ref = find_requests(conn, "tenant-b", [row["request_id"]])[row["request_id"]]
        request, steps = outcome_rows(
            ref, "tenant-b", row["request_id"], [LLM, KV], received_at=DAY, source="api"
        )
        with pytest.raises(ValueError, match="tenant-b"):
            insert_outcomes(conn, [request], steps, tenant_id="tenant-a")
        assert find_requests(conn, "tenant-a", [row["request_id"]]) == {}


def test_a_batch_that_lost_a_race_is_answered_again(sandbox, monkeypatch):
    """The other batch committed after this one read: the insert collides, the retry answers truly."""
    row = provenance_row("tenant-a", datetime.now(UTC))
    with sandbox.begin() as conn:
        insert_provenance(conn, [row])
        record(conn, row, source="api")
    real, calls = reported.recorded_digests, []

    def stale_then_real(conn, tenant_id, ids):
        calls.append(tenant_id)
        return {} if len(calls) == 1 else real(conn, tenant_id, ids)

    monkeypatch.setattr(reported, "recorded_digests", stale_then_real)
    answers = record_reported_outcomes(
        sandbox,
        "tenant-a",
        [ReportedOutcome(row["request_id"], (LLM, KV)), ReportedOutcome(row["request_id"], (LLM,))],
        now=datetime.now(UTC),
        max_age=timedelta(days=7),
    )
    assert [a.status for a in answers] == ["duplicate", "conflict"] and len(calls) == 2
    monkeypatch.setattr(reported, "recorded_digests", lambda conn, tenant_id, ids: {})
    with pytest.raises(sa.exc.IntegrityError):
        record_reported_outcomes(
            sandbox,
            "tenant-a",
            [ReportedOutcome(row["request_id"], (LLM, KV))],
            now=datetime.now(UTC),
            max_age=timedelta(days=7),
        )


@pytest.fixture
def sandbox_role(postgres_database_factory):
    """(owner engine, sandbox-role engine) on a migrated PostgreSQL database with outcomes of two tenants."""
    url = postgres_database_factory()
    owner = make_engine(url)
    upgrade_to_head(owner)
    role = f"costsim_sandbox_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        provision_sandbox_role(conn, role, "sandbox-secret")
    restricted = make_sandbox_engine(
        url, sa.make_url(url).set(username=role, password="sandbox-secret").render_as_string(False)
    )
    rows = [provenance_row(t, DAY + timedelta(hours=1)) for t in ("tenant-a", "tenant-b")]
    with restricted.begin() as conn:
        insert_provenance(conn, rows)
        for row in rows:
            record(conn, row)
    yield owner, restricted, rows
    restricted.dispose()
    with owner.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    owner.dispose()


def seen(conn, table: str) -> list[str]:
    return sorted(r[0] for r in conn.exec_driver_sql(f"SELECT tenant_id FROM sandbox.{table}"))


def test_postgresql_row_level_security_on_outcomes(sandbox_role):
    _, restricted, rows = sandbox_role
    for table in ("outcomes", "outcome_steps"):
        with restricted.begin() as conn:
            assert seen(conn, table) == []  # no scope set: nothing, not everything
        with restricted.begin() as conn:
            tenant_scope(conn, "tenant-a")
            assert set(seen(conn, table)) == {"tenant-a"}
        with restricted.begin() as conn:
            tenant_scope(conn, None)
            assert seen(conn, table) == sorted(["tenant-a", "tenant-b"] * (1 if table == "outcomes" else 2))
    with restricted.connect() as conn:
        [batch] = list(iter_outcome_batches(conn, start=DAY, end=DAY + timedelta(days=1)))
        assert sorted(batch.requests["tenant_id"]) == ["tenant-a", "tenant-b"]
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"), restricted.begin() as conn:
        tenant_scope(conn, "tenant-a")
        conn.exec_driver_sql(
            "INSERT INTO sandbox.outcome_steps (provenance_id, step_index, tenant_id, skill, cost_cents, "
            f"status) VALUES ('{rows[1]['id']}', 7, 'tenant-b', 'kv_get', 0, 'ok')"
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE sandbox.outcomes SET source = 'api'",
        "UPDATE sandbox.outcome_steps SET output_tokens = 1",
        "DELETE FROM sandbox.outcomes",
        "DELETE FROM sandbox.outcome_steps",
    ],
)
def test_postgresql_sandbox_role_cannot_change_recorded_outcomes(sandbox_role, statement):
    _, restricted, _ = sandbox_role
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), restricted.begin() as conn:
        tenant_scope(conn, None)
        conn.exec_driver_sql(statement)


def test_every_table_with_row_level_security_is_listed(sandbox_role):
    owner, _, _ = sandbox_role
    with owner.connect() as conn:
        forced = conn.exec_driver_sql(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relrowsecurity AND c.relforcerowsecurity"
        ).all()
    assert sorted(n if s == "public" else f"{s}.{n}" for s, n in forced) == sorted(RLS_TABLES)
