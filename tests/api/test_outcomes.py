"""POST /costsim/outcomes on both databases: idempotent, tenant-scoped, late arrivals, plan checks."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.api.keys import create_key
from costsim_assets.api.outcomes import MAX_BATCH
from costsim_assets.settings import ApiSettings
from costsim_assets.store.engine import make_engine, provision_sandbox_role, upgrade_to_head
from costsim_assets.store.outcomes import iter_outcome_batches
from costsim_assets.store.tables import outcome_steps, outcomes, provenance
from tests.api.conftest import headers

PLAN = {
    "steps": [
        {"skill": "llm_invoke", "params": {"prompt_tokens": 1200, "model": "gpt-4o"}},
        {"skill": "http_call", "params": {"url": "https://x.example", "timeout": 2}},
    ],
    "budget_cents": 100,
}
LLM_STEP = {
    "skill": "llm_invoke",
    "model": "gpt-4o",
    "input_tokens": 1200,
    "output_tokens": 212,
    "cost_cents": 0.512,
    "latency_ms": 2140.0,
    "status": "ok",
}
HTTP_STEP = {"skill": "http_call", "cost_cents": 0, "status": "ok"}
STEPS = [LLM_STEP, HTTP_STEP]


@pytest.fixture
def service_b(keys) -> str:
    """A service key of tenant-b (made before the app loads the key file)."""
    return create_key(keys["path"], "tenant-b", "service")


def simulate(client, key, plan=PLAN) -> str:
    response = client.post("/costsim/simulate", json=plan, headers=headers(key))
    return response.json()["request_id"] if response.status_code == 200 else response


def report(client, key, *items) -> dict:
    response = client.post("/costsim/outcomes", json={"outcomes": list(items)}, headers=headers(key))
    assert response.status_code == 200, response.text
    return response.json()


def statuses(body: dict) -> list[str]:
    return [r["status"] for r in body["results"]]


def stored(client) -> tuple[list[dict], list[dict]]:
    svc = client.app.state.services
    svc.recorder.close()
    with svc.sandbox_engine.connect() as conn:
        requests = [dict(r) for r in conn.execute(sa.select(outcomes)).mappings()]
        steps = [dict(r) for r in conn.execute(sa.select(outcome_steps).order_by("step_index")).mappings()]
    return requests, steps


def test_accepted_then_duplicate_then_conflict(make_client, keys):
    client = make_client()
    request_id = simulate(client, keys["service"])
    assert report(client, keys["service"], {"request_id": request_id, "steps": STEPS}) == {
        "results": [{"request_id": request_id, "status": "accepted", "reason": None}],
        "counts": {"accepted": 1},
    }
    reordered = [dict(reversed(list(step.items()))) for step in STEPS]
    again = report(client, keys["service"], {"request_id": request_id, "steps": reordered})
    assert statuses(again) == ["duplicate"]
    different = [{**LLM_STEP, "output_tokens": 999}, HTTP_STEP]
    conflict = report(client, keys["service"], {"request_id": request_id, "steps": different})
    assert conflict["results"][0] == {
        "request_id": request_id,
        "status": "conflict",
        "reason": "a different outcome was recorded first",
    }
    [request], steps = stored(client)
    assert request["request_id"] == request_id and request["tenant_id"] == "tenant-a"
    assert request["source"] == "api" and len(request["payload_sha256"]) == 64
    assert [s["output_tokens"] for s in steps] == [212, None]  # the first write won
    assert steps[0] == {
        "provenance_id": request["provenance_id"],
        "step_index": 0,
        "tenant_id": "tenant-a",
        **LLM_STEP,
    }
    assert steps[1]["latency_ms"] is None and steps[1]["model"] is None


def test_repeats_within_one_batch(make_client, keys):
    client = make_client(v2_sandbox=False)
    first, second = simulate(client, keys["service"]), simulate(client, keys["service"])
    body = report(
        client,
        keys["admin"],
        {"request_id": first, "steps": STEPS},
        {"request_id": first, "steps": STEPS},
        {"request_id": second, "steps": STEPS},
        {"request_id": second, "steps": [LLM_STEP, {**HTTP_STEP, "status": "timeout"}]},
    )
    assert statuses(body) == ["accepted", "duplicate", "accepted", "conflict"]
    assert body["counts"] == {"accepted": 2, "duplicate": 1, "conflict": 1}
    assert len(stored(client)[0]) == 2


def test_outcomes_for_requests_made_while_v2_is_off(make_client, keys):
    client = make_client(v2_sandbox=False)
    request_id = simulate(client, keys["service"])
    assert statuses(report(client, keys["service"], {"request_id": request_id, "steps": STEPS})) == [
        "accepted"
    ]


def test_another_tenants_request_answers_like_a_missing_one(make_client, keys, service_b):
    client = make_client()
    theirs = simulate(client, service_b)
    assert statuses(report(client, service_b, {"request_id": theirs, "steps": STEPS})) == ["accepted"]
    before = stored(client)
    probes = report(
        client,
        keys["service"],
        {"request_id": theirs, "steps": STEPS},  # B's payload exactly: not even 'duplicate'
        {"request_id": theirs, "steps": [LLM_STEP]},
        {"request_id": "0" * 32, "steps": STEPS},
    )
    answers = [{k: v for k, v in r.items() if k != "request_id"} for r in probes["results"]]
    assert answers == [{"status": "unknown_request", "reason": "no such request for this tenant"}] * 3
    assert stored(client) == before
    svc = client.app.state.services
    with svc.sandbox_engine.connect() as conn:
        now = datetime.now(UTC)
        window = {"start": now - timedelta(hours=1), "end": now + timedelta(hours=1)}
        assert list(iter_outcome_batches(conn, tenant_id="tenant-a", **window)) == []
        [all_of_them] = list(iter_outcome_batches(conn, **window))
    assert all_of_them.requests["tenant_id"].tolist() == ["tenant-b"]


def age(client, request_id: str, days: float) -> None:
    svc = client.app.state.services
    svc.recorder.close()
    with svc.sandbox_engine.begin() as conn:
        conn.execute(
            sa.update(provenance)
            .where(provenance.c.request_id == request_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


@pytest.mark.parametrize("max_age,expected", [(None, "too_late"), (10.0, "accepted"), (0.5, "too_late")])
def test_late_arrivals_follow_the_setting(make_client, keys, max_age, expected):
    client = make_client(**({} if max_age is None else {"outcome_max_age_days": max_age}))
    request_id = simulate(client, keys["service"])
    age(client, request_id, 8 if max_age != 0.5 else 1)
    [answer] = report(client, keys["service"], {"request_id": request_id, "steps": STEPS})["results"]
    assert answer["status"] == expected
    if expected == "too_late":
        assert answer["reason"] == f"the request is older than {max_age or 7:g} days"
        assert stored(client) == ([], [])


def test_a_recorded_outcome_resent_late_is_still_a_duplicate(make_client, keys):
    client = make_client()
    request_id = simulate(client, keys["service"])
    report(client, keys["service"], {"request_id": request_id, "steps": STEPS})
    age(client, request_id, 30)
    again = report(client, keys["service"], {"request_id": request_id, "steps": STEPS})
    assert statuses(again) == ["duplicate"]


@pytest.mark.parametrize(
    "steps,reason",
    [
        ([LLM_STEP], "the plan has 2 steps, the outcome 1"),
        ([LLM_STEP, HTTP_STEP, HTTP_STEP], "the plan has 2 steps, the outcome 3"),
        ([HTTP_STEP, LLM_STEP], "steps[0].skill is 'http_call'; the plan's step 0 is 'llm_invoke'"),
        (
            [{**LLM_STEP, "output_tokens": None}, HTTP_STEP],
            "steps[0]: a completed llm_invoke step needs input_tokens and output_tokens",
        ),
    ],
)
def test_outcomes_that_do_not_fit_the_plan_are_rejected(make_client, keys, steps, reason):
    client = make_client(v2_sandbox=False)
    request_id = simulate(client, keys["service"])
    body = report(client, keys["service"], {"request_id": request_id, "steps": steps})
    assert body["results"] == [{"request_id": request_id, "status": "rejected", "reason": reason}]
    assert stored(client) == ([], [])


def test_failed_llm_steps_need_no_tokens_and_schema_errors_have_no_steps(make_client, keys):
    client = make_client(v2_sandbox=False)
    request_id = simulate(client, keys["service"])
    failed = [{"skill": "llm_invoke", "cost_cents": 0, "status": "error"}, {**HTTP_STEP, "status": "skipped"}]
    assert statuses(report(client, keys["service"], {"request_id": request_id, "steps": failed})) == [
        "accepted"
    ]
    assert simulate(client, keys["service"], {"steps": "nope", "budget_cents": 1}).status_code == 422
    invalid_id = client.app.state.services
    invalid_id.recorder.close()
    with invalid_id.sandbox_engine.connect() as conn:
        invalid = conn.execute(
            sa.select(provenance.c.request_id).where(provenance.c.v2_status == "schema_error")
        ).scalar_one()
    [answer] = report(client, keys["service"], {"request_id": invalid, "steps": []})["results"]
    assert answer["status"] == "rejected" and "failed validation" in answer["reason"]


@pytest.mark.parametrize(
    "body,paths",
    [
        ({}, {"body.outcomes"}),
        ({"outcomes": []}, {"body.outcomes"}),
        ({"outcomes": [{"steps": []}]}, {"body.outcomes.0.request_id"}),
        (
            {
                "outcomes": [
                    {"request_id": "r", "steps": [{**LLM_STEP, "status": "done", "input_tokens": -1}]}
                ]
            },
            {"body.outcomes.0.steps.0.status", "body.outcomes.0.steps.0.input_tokens"},
        ),
        (
            {"outcomes": [{"request_id": "r", "steps": [{**HTTP_STEP, "cost_cents": "free", "extra": 1}]}]},
            {"body.outcomes.0.steps.0.cost_cents", "body.outcomes.0.steps.0.extra"},
        ),
        (
            {"outcomes": [{"request_id": "r", "steps": [{"skill": "", "cost_cents": -1, "status": "ok"}]}]},
            {"body.outcomes.0.steps.0.skill", "body.outcomes.0.steps.0.cost_cents"},
        ),
        ({"outcomes": [{"request_id": "r", "steps": STEPS}] * (MAX_BATCH + 1)}, {"body.outcomes"}),
    ],
)
def test_schema_mismatch_is_a_422_with_field_paths_and_writes_nothing(make_client, keys, body, paths):
    client = make_client()
    request_id = simulate(client, keys["service"])
    valid = {"request_id": request_id, "steps": STEPS}
    if body.get("outcomes"):
        body = {"outcomes": [valid, *body["outcomes"]]}  # the valid item is not written either
        paths = {p.replace("outcomes.0", "outcomes.1") if "outcomes." in p else p for p in paths}
    response = client.post("/costsim/outcomes", json=body, headers=headers(keys["service"]))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and {d["path"] for d in error["details"]} == paths
    assert stored(client) == ([], [])


def test_not_a_number_is_refused(make_client, keys):
    client = make_client()
    text = '{"outcomes": [{"request_id": "r", "steps": [{"skill": "x", "cost_cents": NaN, "status": "ok"}]}]}'
    response = client.post(
        "/costsim/outcomes",
        content=text,
        headers={**headers(keys["service"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["path"] == "body.outcomes.0.steps.0.cost_cents"


def test_permissions(make_client, keys):
    client = make_client(v2_sandbox=False)
    body = {"outcomes": [{"request_id": "r", "steps": []}]}
    assert client.post("/costsim/outcomes", json=body).status_code == 401
    for role in ("engineer", "auditor"):
        denied = client.post("/costsim/outcomes", json=body, headers=headers(keys[role]))
        assert denied.status_code == 403
        assert denied.json()["error"]["details"] == {"missing_permission": "outcomes:write", "role": role}
    for role in ("service", "admin"):
        assert statuses(report(client, keys[role], body["outcomes"][0])) == ["unknown_request"]


def test_a_failed_batch_writes_nothing(make_client, keys, monkeypatch):
    client = make_client(v2_sandbox=False)
    first, second = simulate(client, keys["service"]), simulate(client, keys["service"])
    import costsim_assets.sandbox.outcomes as module

    real = module.insert_outcomes

    def insert_then_fail(conn, requests, steps, *, tenant_id):
        real(conn, requests, steps, tenant_id=tenant_id)
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "insert_outcomes", insert_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        report(
            client,
            keys["service"],
            {"request_id": first, "steps": STEPS},
            {"request_id": second, "steps": STEPS},
        )
    assert stored(client) == ([], [])


def test_openapi_shows_the_endpoint_models_and_examples(make_client):
    spec = make_client(v2_sandbox=False).get("/openapi.json").json()
    operation = spec["paths"]["/costsim/outcomes"]["post"]
    schemas = spec["components"]["schemas"]
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("/OutcomeBatchIn") and schemas["OutcomeBatchIn"]["examples"]
    assert schemas["OutcomeBatchIn"]["properties"]["outcomes"]["maxItems"] == MAX_BATCH
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/OutcomeBatchOut") and schemas["OutcomeBatchOut"]["examples"]
    assert set(schemas["OutcomeAnswer"]["properties"]["status"]["enum"]) == {
        "accepted",
        "duplicate",
        "conflict",
        "unknown_request",
        "too_late",
        "rejected",
    }
    assert set(schemas["OutcomeStepIn"]["properties"]["status"]["enum"]) == {
        "ok",
        "error",
        "timeout",
        "skipped",
    }
    assert {"401", "403", "422", "429"} <= set(operation["responses"])
    assert spec["components"]["schemas"]["SimulateResponse"]["properties"]["request_id"]["description"]


@pytest.fixture
def restricted_client(postgres_database_factory, keys, service_b):
    """PostgreSQL, the API's sandbox engine connected as a sandbox role: row-level security applies."""
    url = postgres_database_factory()
    owner = make_engine(url)
    upgrade_to_head(owner)
    role = f"costsim_sandbox_{uuid.uuid4().hex[:8]}"
    with owner.begin() as conn:
        provision_sandbox_role(conn, role, "sandbox-secret")
    sandbox_url = sa.make_url(url).set(username=role, password="sandbox-secret").render_as_string(False)
    settings = ApiSettings(database_url=url, api_keys_file=keys["path"], sandbox_database_url=sandbox_url)
    with TestClient(create_app(settings)) as client:
        yield client
    with owner.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    owner.dispose()


def test_tenants_stay_apart_under_row_level_security(restricted_client, keys, service_b):
    client = restricted_client
    mine, theirs = simulate(client, keys["service"]), simulate(client, service_b)
    assert statuses(report(client, service_b, {"request_id": theirs, "steps": STEPS})) == ["accepted"]
    assert statuses(report(client, keys["service"], {"request_id": theirs, "steps": STEPS})) == [
        "unknown_request"
    ]
    body = report(
        client, keys["service"], {"request_id": mine, "steps": STEPS}, {"request_id": mine, "steps": STEPS}
    )
    assert statuses(body) == ["accepted", "duplicate"]
    assert statuses(report(client, service_b, {"request_id": mine, "steps": STEPS})) == ["unknown_request"]
    assert statuses(report(client, service_b, {"request_id": theirs, "steps": [LLM_STEP]})) == ["conflict"]
    with client.app.state.services.sandbox_engine.connect() as conn:
        now = datetime.now(UTC)
        window = {"start": now - timedelta(hours=1), "end": now + timedelta(hours=1)}
        [a] = list(iter_outcome_batches(conn, tenant_id="tenant-a", **window))
        assert a.requests["request_id"].tolist() == [mine] and set(a.steps["provenance_id"]) == set(
            a.requests["provenance_id"]
        )
