"""POST /costsim/simulate: V1 always answers; V2 in shadow; every error path structured."""

import time

import pytest
import sqlalchemy as sa

from costsim_assets.sandbox.evaluation import evaluate_v1_plans
from costsim_assets.simulator.plan_schema import validate_plan
from costsim_assets.store.provenance import decompress
from costsim_assets.store.tables import provenance, schema_errors
from tests.api.conftest import headers

PLAN = {
    "steps": [
        {"skill": "llm_invoke", "params": {"prompt_tokens": 1200, "model": "gpt-4o"}},
        {"skill": "http_call", "params": {"url": "https://x.example", "timeout": 2}},
    ],
    "budget_cents": 100,
}


def provenance_rows(client) -> list[dict]:
    svc = client.app.state.services
    svc.recorder.close()  # flush: every queued write and V2 job is finished
    with svc.sandbox_engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(provenance)).mappings()]


def expected_v1() -> dict:
    return evaluate_v1_plans([validate_plan({**PLAN, "tenant_id": "tenant-a"})])[0].document


def assert_v1_half_only(row: dict, body: dict) -> None:
    """V1's half of provenance, with V2 recorded as skipped and nothing of V2's."""
    assert row["request_id"] == body["request_id"] and row["tenant_id"] == "tenant-a"
    assert row["v2_status"] == "skipped" and row["v1_version"] == "v1-m5-frozen"
    assert decompress(row["v1_output_z"]) == body["result"] and len(row["input_hash"]) == 64
    assert row["v1_cost_cents"] == body["result"]["estimated_cost_cents"] and row["v1_runtime_ms"] > 0
    assert all(row[c] is None for c in ("v2_version", "v2_output_hash", "v2_output_z", "v2_cost_cents"))


def test_flag_off_answers_v1_and_records_v1_provenance(make_client, keys):
    client = make_client(v2_sandbox=False)
    response = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"]))
    assert response.status_code == 200
    assert response.json()["result"] == expected_v1() and response.json()["shadow"] == "off"
    [row] = provenance_rows(client)
    assert_v1_half_only(row, response.json())


def test_shadow_on_records_provenance_for_both_versions(make_client, keys):
    client = make_client()
    body = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).json()
    assert body["result"] == expected_v1() and body["shadow"] == "recorded"
    [row] = provenance_rows(client)
    assert row["request_id"] == body["request_id"] and row["tenant_id"] == "tenant-a"
    assert row["v2_status"] == "ok" and row["v2_version"].startswith("v2-")
    assert row["v1_version"] == "v1-m5-frozen" and len(row["input_hash"]) == 64
    assert decompress(row["v1_output_z"]) == body["result"]
    assert decompress(row["v2_output_z"])["estimated_cost_cents"] == pytest.approx(row["v2_cost_cents"])
    assert row["v2_cost_cents"] < row["v1_cost_cents"]
    assert row["v1_runtime_ms"] > 0 and row["v2_runtime_ms"] > 0 and row["code_version"]


def test_routing_disabled_stops_the_shadow(make_client, keys):
    client = make_client()
    assert (
        client.post(
            "/costsim/v2/disable", json={"reason": "drill"}, headers=headers(keys["admin"])
        ).status_code
        == 200
    )
    body = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).json()
    assert body["shadow"] == "off" and body["result"] == expected_v1()
    [row] = provenance_rows(client)
    assert_v1_half_only(row, body)


def test_v2_raising_never_reaches_the_caller(make_client, keys):
    def broken(plans):
        raise RuntimeError("price table missing")

    client = make_client(v2=broken)
    response = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"]))
    assert response.status_code == 200 and response.json()["result"] == expected_v1()
    [row] = provenance_rows(client)
    assert row["v2_status"] == "error" and "price table missing" in row["v2_error"]


def test_slow_v2_is_a_timeout_and_does_not_delay_v1(make_client, keys):
    def slow(plans):
        time.sleep(0.6)
        return []

    client = make_client(v2=slow, v2_time_budget_ms=100)
    started = time.perf_counter()
    response = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"]))
    assert time.perf_counter() - started < 0.4
    assert response.status_code == 200
    [row] = provenance_rows(client)
    assert row["v2_status"] == "timeout" and "budget 100 ms" in row["v2_error"]


@pytest.mark.parametrize("flag", [True, False])
def test_schema_error_is_structured_counted_and_kept(make_client, keys, flag):
    client = make_client(v2_sandbox=flag)
    bad = {"steps": [{"skill": "", "params": {"timeout": -1}}], "budget_cents": -5}
    response = client.post("/costsim/simulate", json=bad, headers=headers(keys["service"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "schema_error"
    assert {d["path"] for d in error["details"]} == {
        "steps[0].skill",
        "steps[0].params.timeout",
        "budget_cents",
    }
    with client.app.state.services.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema_errors)).scalar() == 3
    [row] = provenance_rows(client)
    assert row["v2_status"] == "schema_error" and row["input_hash"] is None
    assert row["tenant_id"] == "tenant-a" and row["request_id"] == error_request_id(client)


def error_request_id(client) -> str:
    with client.app.state.services.engine.connect() as conn:
        return conn.execute(sa.select(schema_errors.c.record_id).limit(1)).scalar_one()


@pytest.mark.parametrize("named", [["a list"], "t" * 129])
def test_an_unusable_tenant_is_a_schema_error_filed_under_the_key(make_client, keys, named):
    client = make_client(v2_sandbox=False)
    response = client.post(
        "/costsim/simulate", json={**PLAN, "tenant_id": named}, headers=headers(keys["admin"])
    )
    assert response.status_code == 422 and response.json()["error"]["details"][0]["path"] == "tenant_id"
    [row] = provenance_rows(client)
    assert row["v2_status"] == "schema_error" and row["tenant_id"] == "tenant-a"


@pytest.mark.parametrize(
    "body,status,code",
    [
        ("{not json", 400, "malformed_json"),
        ([1, 2, 3], 422, "schema_error"),
    ],
)
def test_malformed_bodies(make_client, keys, body, status, code):
    client = make_client(v2_sandbox=False)
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    response = client.post(
        "/costsim/simulate",
        headers={**headers(keys["service"]), "Content-Type": "application/json"},
        **kwargs,
    )
    assert response.status_code == status and response.json()["error"]["code"] == code


def test_auth_errors(make_client, keys):
    client = make_client(v2_sandbox=False)
    missing = client.post("/costsim/simulate", json=PLAN)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthenticated"
    forged = keys["service"][:-3] + "xyz"
    assert client.post("/costsim/simulate", json=PLAN, headers=headers(forged)).status_code == 401
    assert client.post("/costsim/simulate", json=PLAN, headers=headers("garbage")).status_code == 401
    denied = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["auditor"]))
    assert denied.status_code == 403
    assert denied.json()["error"]["details"] == {"missing_permission": "simulate", "role": "auditor"}


def test_tenant_comes_from_the_key(make_client, keys):
    client = make_client()
    crossing = client.post(
        "/costsim/simulate", json={**PLAN, "tenant_id": "tenant-a"}, headers=headers(keys["other_tenant"])
    )
    assert crossing.status_code == 403 and crossing.json()["error"]["code"] == "tenant_mismatch"
    own = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["other_tenant"]))
    assert own.status_code == 200
    admin = client.post(
        "/costsim/simulate", json={**PLAN, "tenant_id": "tenant-z"}, headers=headers(keys["admin"])
    )
    assert admin.status_code == 200
    assert sorted(r["tenant_id"] for r in provenance_rows(client)) == ["tenant-b", "tenant-z"]


def test_rate_limit_gives_429_with_retry_after(make_client, keys):
    client = make_client(v2_sandbox=False, rate_limit_per_second=0.5, rate_limit_burst=2)
    codes = [
        client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"]))
    assert limited.headers["Retry-After"] == "2" and limited.json()["error"]["code"] == "rate_limited"
    assert client.post("/costsim/simulate", json=PLAN, headers=headers(keys["engineer"])).status_code == 200


def test_unknown_route_is_a_structured_404(make_client, keys):
    response = make_client(v2_sandbox=False).get("/costsim/nothing", headers=headers(keys["admin"]))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_per_tenant_limits_from_the_tenants_file(make_client, keys, tmp_path):
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text(
        "defaults: {rateLimit: {requestsPerSecond: 50, burst: 100}}\n"
        "tenants:\n  tenant-b: {rateLimit: {requestsPerSecond: 0.5, burst: 1}}\n"
        "  tenant-c: {drift: {warn: 0.1}}\n"
    )
    client = make_client(v2_sandbox=False, tenants_file=str(tenants))
    strict = [
        client.post("/costsim/simulate", json=PLAN, headers=headers(keys["other_tenant"])).status_code
        for _ in range(2)
    ]
    assert strict == [200, 429]
    relaxed = [
        client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).status_code
        for _ in range(3)
    ]
    assert relaxed == [200, 200, 200]
