"""End to end: an agent runtime calls simulate with V2 disabled, then reports what really happened
through POST /costsim/outcomes; the day's canary judges V2 (offline) on those outcomes. Real
outcomes of the code trace: V2 passes; the same requests with outputs twice as long: P1 breaches and
names output lengths."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.api.keys import create_key
from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.settings import ApiSettings
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.store.routing import transition_routing
from costsim_assets.store.tables import provenance
from tests.dagster.conftest import TRACE, make_resources

REQUESTS = 1100  # the judgement needs 1,000 LLM calls with outcomes
CANARY_ASSETS = [keys.CANARY_SAMPLE, keys.CANARY_DRIFT]


def plan(context_tokens: int) -> dict:
    return {
        "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": context_tokens, "model": "gpt-4o"}}],
        "budget_cents": 100,
    }


def outcome(request_id: str, context: int, generated: int) -> dict:
    price_in, price_out = load_price_table().cents_per_token("gpt-4o")
    return {
        "request_id": request_id,
        "steps": [
            {
                "skill": "llm_invoke",
                "model": "gpt-4o",
                "input_tokens": context,
                "output_tokens": generated,
                "cost_cents": context * price_in + generated * price_out,
                "status": "ok",
            }
        ],
    }


def a_day_of_traffic(tmp_path, output_scale: int) -> tuple[dict, str]:
    """Requests through simulate (V2 disabled), outcomes through the API; the store they landed in.
    The canary judges complete days, so the requests are moved back one day, as if made yesterday."""
    database_url = f"sqlite:///{tmp_path}/store.db"
    keys_file = tmp_path / "keys.yaml"
    service = create_key(keys_file, "tenant-agent", "service")
    settings = ApiSettings(
        database_url=database_url,
        api_keys_file=str(keys_file),
        v2_sandbox=True,
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
    )
    trace = pd.read_csv(TRACE).sample(REQUESTS, random_state=3)
    with TestClient(create_app(settings)) as client:
        with client.app.state.services.engine.begin() as conn:
            transition_routing(
                conn, to_state="disabled", actor_type="person", actor_id="oncall", reason="drill"
            )
        headers = {"X-API-Key": service}
        ids = [
            client.post("/costsim/simulate", json=plan(int(c)), headers=headers).json()["request_id"]
            for c in trace["ContextTokens"]
        ]
        reports = [
            outcome(i, int(c), int(g) * output_scale)
            for i, c, g in zip(ids, trace["ContextTokens"], trace["GeneratedTokens"], strict=True)
        ]
        for start in range(0, REQUESTS, 1000):
            answer = client.post(
                "/costsim/outcomes", json={"outcomes": reports[start : start + 1000]}, headers=headers
            )
            assert answer.status_code == 200 and set(answer.json()["counts"]) == {"accepted"}
        with client.app.state.services.engine.begin() as conn:
            made = conn.execute(sa.select(provenance.c.id, provenance.c.created_at)).all()
            conn.execute(
                sa.update(provenance).where(provenance.c.id == sa.bindparam("row_id")),
                [{"row_id": i, "created_at": at - timedelta(days=1)} for i, at in made],
            )
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    return make_resources(tmp_path / "artifacts", database_url), yesterday


def judge_the_day(resources: dict, day: str) -> dg.ExecuteInProcessResult:
    definitions = build_definitions(resources)
    setup = definitions.resolve_job_def("m6_validation")
    static = [*(keys.reference(n) for n in DATASET_NAMES), keys.MODEL]
    assert setup.execute_in_process(asset_selection=static).success
    daily = definitions.resolve_job_def("daily_canary")
    return daily.execute_in_process(partition_key=day, asset_selection=CANARY_ASSETS, raise_on_error=False)


def checks(result) -> dict:
    return {e.check_name: e.metadata for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize("output_scale", [1, 2])
def test_outcomes_reported_through_the_api_are_what_the_canary_judges(tmp_path, output_scale):
    resources, day = a_day_of_traffic(tmp_path, output_scale)
    result = judge_the_day(resources, day)
    p1 = checks(result)["realized_drift_p1"]
    [drift] = [e for e in result.get_asset_materialization_events() if e.asset_key == keys.CANARY_DRIFT]
    assert drift.materialization.metadata["outcome_steps"].value == REQUESTS
    if output_scale == 1:
        assert result.success and p1["outcome"].value == "pass"
    else:
        assert p1["outcome"].value == "breach" and p1["moved"].value == ["output_lengths"]
