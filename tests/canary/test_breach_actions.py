"""The breach response by the checks table's action, on both databases, against a local Slack:
disable by compare-and-set with one incident and one message; a breach while V2 is already
disabled still gets its incident, linked to the open one, and one message that says so; repeats
change nothing, except that a failed message is sent again."""

import json

import pytest

from costsim_assets.alerts.slack import SlackNotifier
from costsim_assets.canary.actions import Breach, handle_breach, incident_id
from costsim_assets.canary.checks import CHECKS, canary_check
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.history_queries import history_page
from costsim_assets.store.incidents import list_deliveries, list_incidents
from costsim_assets.store.routing import read_routing_state, transition_routing
from costsim_assets.store.status_history import SYSTEM_TENANT
from tests.alerts import test_slack
from tests.alerts.test_slack import Reply

DIFF = "/artifacts/canary/2026-11-23/diff_pairs.parquet"
slack = test_slack.slack  # fake Slack servers on loopback, recording every request


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def breach(check: str = "realized_drift_p1", day: str = "2026-11-23") -> Breach:
    return Breach(
        check, day, 0.41, 0.2, "drift score 0.41 > threshold 0.2", ("tenant-a/gpt-4o/bin3",), {"n": 900}, DIFF
    )


def respond(engine, tmp_path, fake, item: Breach, run: str = "run-1"):
    notifier = SlackNotifier(fake.url, retries=0, sleep=lambda _: None)
    return handle_breach(engine, item, tmp_path / "incidents", notifier, actor_id=run)


def test_the_checks_table_names_each_check_once_with_an_action():
    assert [(c.name, c.priority, c.blocking, c.action) for c in CHECKS] == [
        ("realized_drift_p1", "P1", True, "disable"),
        ("median_shift_p2", "P2", False, "alert"),
        ("schema_errors_p3", "P3", True, "incident"),
    ]
    with pytest.raises(KeyError):
        canary_check("drift_p1")


def test_p1_disables_once_opens_one_incident_and_sends_one_message(engine, tmp_path, slack):
    fake = slack(Reply(200))
    first = respond(engine, tmp_path, fake, breach())
    again = respond(engine, tmp_path, fake, breach(), run="run-2")
    assert (first.state, first.transition, first.incident_opened, first.alert) == (
        "disabled",
        "enabled -> disabled",
        True,
        "delivered",
    )
    assert (again.transition, again.incident_opened, again.alert) == (None, False, "already sent")
    assert again.incident_file == first.incident_file
    with engine.connect() as conn:
        state, [incident] = read_routing_state(conn), list_incidents(conn)
        history = history_page(conn, tenant_id="tenant-a", filters={}, after_id=None, limit=100)
    assert (state.incident_id, state.actor_type, state.actor_id) == (
        incident["id"],
        "breach_response",
        "run-1",
    )
    assert incident["evidence"]["moved"] == ["tenant-a/gpt-4o/bin3"] and incident["evidence"]["evidence"] == {
        "n": 900
    }
    assert {(r["tenant_id"], r["entity_type"]) for r in history} == {
        (SYSTEM_TENANT, "v2_routing"),
        (SYSTEM_TENANT, "incident"),
        (SYSTEM_TENANT, "canary_verdict"),
    }  # a tenant's auditor sees the global events
    [message] = [r["json"]["text"] for r in fake.requests]
    assert (
        message.startswith("[P1] CostSim canary 2026-11-23")
        and f"V2 routing disabled (incident {incident['id']})" in message
    )
    document = json.loads(
        (tmp_path / "incidents" / f"2026-11-23-realized_drift_p1-{incident['id'][:8]}.json").read_text()
    )
    assert document["evidence"]["detail"] == "drift score 0.41 > threshold 0.2"


def test_a_breach_while_disabled_is_recorded_and_linked_to_the_open_incident(engine, tmp_path, slack):
    fake = slack(Reply(200))
    opened = respond(engine, tmp_path, fake, breach(day="2026-11-23"))
    later = respond(engine, tmp_path, fake, breach(day="2026-11-24"))
    assert (later.transition, later.incident_opened, later.linked_incident_id) == (
        None,
        True,
        opened.incident_id,
    )
    with engine.connect() as conn:
        incidents = {i["partition_key"]: i for i in list_incidents(conn)}
    assert incidents["2026-11-24"]["linked_incident_id"] == opened.incident_id
    assert (
        f'linked_incident_id": "{opened.incident_id}'
        in (tmp_path / "incidents")
        .joinpath(f"2026-11-24-realized_drift_p1-{later.incident_id[:8]}.json")
        .read_text()
    )
    texts = [r["json"]["text"] for r in fake.requests]
    assert len(texts) == 2 and f"V2 was already disabled (open incident {opened.incident_id})" in texts[1]


def test_disabled_by_a_person_and_reenabled_after_a_breach(engine, tmp_path, slack):
    fake = slack(Reply(200))
    with engine.begin() as conn:
        transition_routing(conn, to_state="disabled", actor_type="person", actor_id="oncall", reason="drill")
    outcome = respond(engine, tmp_path, fake, breach())
    assert (outcome.transition, outcome.linked_incident_id) == (None, None)
    assert "V2 was already disabled (by a person)" in fake.requests[0]["json"]["text"]
    with engine.begin() as conn:
        transition_routing(conn, to_state="enabled", actor_type="person", actor_id="oncall", reason="fixed")
    repeat = respond(
        engine, tmp_path, fake, breach(), run="rerun"
    )  # the day was handled: a person decides now
    assert (repeat.state, repeat.transition, repeat.alert) == ("enabled", None, "already sent")


def test_p2_only_alerts_and_p3_opens_an_incident_without_touching_routing(engine, tmp_path, slack):
    fake = slack(Reply(200))
    p2 = respond(engine, tmp_path, fake, breach("median_shift_p2"))
    p3 = respond(engine, tmp_path, fake, breach("schema_errors_p3"))
    assert (p2.action, p2.incident_id, p2.alert) == ("alert", None, "delivered")
    assert (p3.action, p3.state, p3.transition, p3.incident_opened) == ("incident", "enabled", None, True)
    assert [r["json"]["text"][:4] for r in fake.requests] == ["[P2]", "[P3]"]
    with engine.connect() as conn:
        assert [i["kind"] for i in list_incidents(conn)] == ["schema_errors_p3"]


def test_a_failed_message_is_sent_again_on_retry_and_only_once(engine, tmp_path, slack):
    fake = slack(Reply(500, "down"), Reply(200))
    failed = respond(engine, tmp_path, fake, breach())
    retried = respond(engine, tmp_path, fake, breach(), run="run-1-retry")
    done = respond(engine, tmp_path, fake, breach(), run="run-1-retry-2")
    assert (failed.alert, retried.alert, done.alert) == (
        "failed: HTTP 500: down",
        "delivered",
        "already sent",
    )
    assert [r["json"] for r in fake.requests][0] == [r["json"] for r in fake.requests][1]  # the same message
    with engine.connect() as conn:
        [delivery] = list_deliveries(conn)
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 2)
    assert incident_id(breach()) == failed.incident_id == retried.incident_id
