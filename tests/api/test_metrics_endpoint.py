"""GET /metrics: open to Prometheus (no key), text exposition, values from the store."""

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import headers

PLAN = {
    "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": 1200, "model": "gpt-4o"}}],
    "budget_cents": 100,
}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_need_no_key_and_follow_the_routing_switch(make_client, keys):
    client = make_client()
    assert scrape(client)[("costsim_routing_enabled", frozenset())] == 1
    client.post("/costsim/v2/disable", json={"reason": "drill"}, headers=headers(keys["admin"]))
    assert scrape(client)[("costsim_routing_enabled", frozenset())] == 0


def test_simulate_calls_are_counted(make_client, keys):
    client = make_client()
    assert client.post("/costsim/simulate", json=PLAN, headers=headers(keys["service"])).status_code == 200
    client.app.state.services.recorder.close()  # flush the provenance write and the V2 job
    runs = {
        dict(labels)["version"] + "/" + dict(labels)["status"]: value
        for (name, labels), value in scrape(client).items()
        if name == "costsim_runs_total" and value
    }
    assert runs == {"v1/ok": 1, "v2/ok": 1}


def test_metrics_is_documented_without_security(make_client):
    spec = make_client().get("/openapi.json").json()
    operation = spec["paths"]["/metrics"]["get"]
    assert "security" not in operation and "no tenant data" in operation["description"]
