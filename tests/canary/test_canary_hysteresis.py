"""Hysteresis: V2 is re-enabled only after N consecutive passing canaries, when configured."""

import pytest

from costsim_assets.canary.verdict import record_canary_verdict
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.routing import read_routing_state, transition_routing


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        transition_routing(conn, to_state="disabled", actor_type="sensor", actor_id="s", reason="P1")
    yield engine
    engine.dispose()


def verdicts(engine, days, reenable_after, verdict="pass"):
    with engine.begin() as conn:
        return [record_canary_verdict(conn, day, reenable_after, verdict) for day in days]


def test_never_reenables_unless_configured(engine):
    outcomes = verdicts(engine, ["d1", "d2", "d3", "d4"], reenable_after=0)
    assert [o["consecutive_passes"] for o in outcomes] == [1, 2, 3, 4]
    assert not any(o["reenabled"] for o in outcomes)
    with engine.connect() as conn:
        assert read_routing_state(conn).state == "disabled"


def test_reenables_after_n_passes_and_a_failure_resets_the_streak(engine):
    verdicts(engine, ["d1"], reenable_after=3)
    verdicts(engine, ["d2"], reenable_after=3, verdict="fail")
    outcomes = verdicts(engine, ["d3", "d4", "d5"], reenable_after=3)
    assert [(o["consecutive_passes"], o["reenabled"]) for o in outcomes] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    with engine.connect() as conn:
        state = read_routing_state(conn)
    assert (state.state, state.actor_type) == ("enabled", "canary")
