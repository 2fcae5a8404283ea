"""The breach_response job itself: without a breach it records the current state; a failed alert
fails the step and Dagster's retry policy sends it again; without a webhook the run succeeds and
says why nothing was sent."""

import json
import threading

import dagster as dg

from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.defs.assets.routing import OP_NAME
from costsim_assets.defs.resources import CanaryResource
from costsim_assets.store.incidents import list_deliveries
from tests.alerts.test_slack import FakeSlack, Reply
from tests.dagster.conftest import make_resources

BREACH = {
    "check": "schema_errors_p3",
    "day": "2026-11-24",
    "value": 0.09,
    "threshold": 0.05,
    "detail": "schema-error ratio 0.09 > threshold 0.05",
    "evidence_json": json.dumps({"schema_error_ratio": 0.09, "evaluations": None}),
}


def respond(resources: dict, breach: dict | None) -> dg.ExecuteInProcessResult:
    job = build_definitions(resources).resolve_job_def("breach_response")
    config = {"ops": {OP_NAME: {"config": breach}}} if breach else None
    return job.execute_in_process(run_config=config, raise_on_error=False)


def metadata(result: dg.ExecuteInProcessResult) -> list[dict]:
    return [
        {k: getattr(v, "value", v) for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key == keys.ROUTING
    ]


def test_without_a_breach_the_current_state_is_recorded(tmp_path):
    resources = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    result = respond(resources, None)
    assert result.success
    [recorded] = metadata(result)
    assert (recorded["state"], recorded["transition"], recorded["revision"]) == ("enabled", "none", 0)


def test_a_failed_alert_is_retried_by_the_retry_policy_and_sent_once(tmp_path):
    slack = FakeSlack([Reply(500, "down")] * 4 + [Reply(200)])  # the notifier's own 3 retries fail too
    threading.Thread(target=slack.server.serve_forever, daemon=True).start()
    resources = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    resources["canary"] = CanaryResource(
        slack_webhook_url=slack.url, incident_dir=str(tmp_path / "incidents")
    )
    try:
        result = respond(resources, BREACH)
    finally:
        slack.server.shutdown()
    assert result.success
    events = [e.event_type_value for e in result.all_events]
    assert events.count("STEP_UP_FOR_RETRY") == 1
    first, retried = metadata(result)
    assert first["alert_delivery"] == "failed: HTTP 500: down" and retried["alert_delivery"] == "delivered"
    assert (first["action"], retried["incident_id"]) == ("incident", first["incident_id"])
    with resources["store"].engine().connect() as conn:
        [delivery] = list_deliveries(conn)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 5)
    assert len({json.dumps(r["json"]) for r in slack.requests}) == 1  # the same message every time


def test_without_a_webhook_the_run_succeeds_and_records_why(tmp_path):
    resources = make_resources(tmp_path / "artifacts", f"sqlite:///{tmp_path}/store.db")
    result = respond(resources, BREACH)
    assert result.success
    [recorded] = metadata(result)
    assert recorded["alert_delivery"] == "failed: no Slack webhook configured"
    assert recorded["incident_file"].endswith(".md")
