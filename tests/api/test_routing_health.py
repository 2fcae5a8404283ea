"""Kill switch endpoints, status history rows, health probes and the OpenAPI document."""

import sqlalchemy as sa

from costsim_assets.store.engine import head_revision
from costsim_assets.store.status_history import SYSTEM_TENANT, first_broken_link
from costsim_assets.store.tables import status_history
from tests.api.conftest import headers


def test_status_then_disable_then_enable(make_client, keys):
    client = make_client()
    status = client.get("/costsim/v2/status", headers=headers(keys["auditor"])).json()
    assert status["routing_state"] == "enabled" and status["v2_running"] is True
    assert status["model_version"].startswith("v2-")
    disabled = client.post(
        "/costsim/v2/disable", json={"reason": "drift drill"}, headers=headers(keys["admin"])
    )
    assert disabled.status_code == 200 and disabled.json()["routing_state"] == "disabled"
    assert disabled.json()["last_transition"]["reason"] == "drift drill"
    again = client.post("/costsim/v2/disable", json={"reason": "twice"}, headers=headers(keys["admin"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_transition"
    enabled = client.post("/costsim/v2/enable", json={"reason": "fixed"}, headers=headers(keys["admin"]))
    assert enabled.json()["v2_running"] is True
    with client.app.state.services.engine.connect() as conn:
        rows = [
            dict(r) for r in conn.execute(sa.select(status_history).order_by(status_history.c.seq)).mappings()
        ]
    assert [(r["old_status"], r["new_status"], r["reason"]) for r in rows] == [
        ("enabled", "disabled", "drift drill"),
        ("disabled", "enabled", "fixed"),
    ]
    assert all(r["tenant_id"] == SYSTEM_TENANT and r["actor_type"] == "person" for r in rows)
    assert first_broken_link(rows) is None


def test_only_admins_switch_and_a_reason_is_required(make_client, keys):
    client = make_client()
    denied = client.post("/costsim/v2/disable", json={"reason": "nope"}, headers=headers(keys["engineer"]))
    assert denied.status_code == 403 and denied.json()["error"]["details"]["missing_permission"] == "v2:write"
    no_reason = client.post("/costsim/v2/disable", json={}, headers=headers(keys["admin"]))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["details"][0]["path"] == "body.reason"
    assert client.get("/costsim/v2/status", headers=headers(keys["service"])).status_code == 403
    assert client.get("/costsim/v2/status").status_code == 401


def test_sandbox_flag_off_means_v2_not_running(make_client, keys):
    status = make_client(v2_sandbox=False).get("/costsim/v2/status", headers=headers(keys["admin"])).json()
    assert status["sandbox_flag"] is False and status["v2_running"] is False


def test_unreadable_routing_state_is_fail_safe(make_client, keys, monkeypatch):
    client = make_client()
    import costsim_assets.api.services as services_module

    def unreadable(conn):
        raise sa.exc.OperationalError("select", {}, Exception("database gone"))

    monkeypatch.setattr(services_module, "read_routing_state", unreadable)
    body = client.post(
        "/costsim/simulate", json={"steps": [], "budget_cents": 1}, headers=headers(keys["service"])
    ).json()
    assert body["shadow"] == "off"


def test_health_and_readiness(make_client, keys):
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["revision"] == head_revision()
    engine = client.app.state.services.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0002'")
    stale = client.get("/readyz")
    assert stale.status_code == 503 and f"head is {head_revision()}" in stale.json()["reason"]
    engine.dispose()
    client.app.state.services.engine = sa.create_engine("sqlite:////nonexistent/dir/x.db")
    assert client.get("/readyz").status_code == 503


def test_openapi_documents_every_endpoint_and_error(make_client):
    spec = make_client(v2_sandbox=False).get("/openapi.json").json()
    assert set(spec["paths"]) == {
        "/costsim/simulate",
        "/costsim/v2/status",
        "/costsim/v2/disable",
        "/costsim/v2/enable",
        "/healthz",
        "/readyz",
        "/metrics",
        "/status-history",
        "/status-history/exports",
        "/status-history/exports/{export_id}/download",
        "/costsim/divergence-report",
        "/reports/files/{name}",
    }
    simulate = spec["paths"]["/costsim/simulate"]["post"]
    assert {"200", "400", "401", "403", "422", "429"} <= set(simulate["responses"])
    assert simulate["responses"]["403"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ErrorResponse"
    )
    assert "X-API-Key" in str(spec["components"]["securitySchemes"])
    assert {"409", "422"} <= set(spec["paths"]["/costsim/v2/disable"]["post"]["responses"])
