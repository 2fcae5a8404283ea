"""Canonical hashes: stable across processes, sensitive to every output-changing field only."""

import json
import subprocess
import sys

import pytest

from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import load_v2_model
from tests.helpers import batch_of, plan

BASE = plan(
    [
        {"skill": "llm_invoke", "params": {"prompt_tokens": 900, "model": "gpt-4o"}},
        {"skill": "http_call", "params": {"url": "https://a.example", "timeout": 2}},
    ],
    budget=50,
    allowed=["llm_invoke", "http_call"],
    risk=0.4,
)
SCRIPT = """
import json, sys
from costsim_assets.simulator.hashing import input_hashes, output_hashes
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import load_v2_model
from tests.helpers import batch_of
batch = batch_of(*json.loads(sys.argv[1]))
print(json.dumps([input_hashes(batch), output_hashes(evaluate_v1(batch)),
                  output_hashes(evaluate_v2(batch, load_v2_model()))]))
"""


def hashes(*records):
    batch = batch_of(*records)
    return (
        input_hashes(batch),
        output_hashes(evaluate_v1(batch)),
        output_hashes(evaluate_v2(batch, load_v2_model())),
    )


def variant(**changes) -> dict:
    record = json.loads(json.dumps(BASE))
    record.update(changes)
    return record


def test_same_input_same_hashes_in_another_process():
    records = [BASE, plan([]), plan([{"skill": "kv_get"}] * 3, tenant="other")]
    here = [list(h) for h in hashes(*records)]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(records)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=".",
    )
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize(
    "changed",
    [
        variant(tenant_id="someone-else"),
        variant(allowed_skills=["llm_invoke"]),
        variant(risk_threshold=0.41),
        variant(budget_cents=51),
        variant(steps=BASE["steps"][::-1]),
        variant(steps=[BASE["steps"][0]]),
        variant(
            steps=[
                {"skill": "llm_invoke", "params": {"prompt_tokens": 901, "model": "gpt-4o"}},
                BASE["steps"][1],
            ]
        ),
        variant(
            steps=[
                {"skill": "llm_invoke", "params": {"prompt_tokens": 900, "model": "gpt-4o-mini"}},
                BASE["steps"][1],
            ]
        ),
    ],
)
def test_every_output_changing_field_changes_the_input_hash(changed):
    assert hashes(changed)[0] != hashes(BASE)[0]


def test_fields_that_cannot_change_output_do_not_change_the_input_hash():
    same = variant(allowed_skills=["http_call", "llm_invoke", "http_call"])
    assert hashes(same) == hashes(BASE)
    one = plan([{"skill": "llm_invoke", "params": {"prompt": "a" * 4000}}])
    other = plan([{"skill": "llm_invoke", "params": {"prompt": "b" * 4000}}])
    assert hashes(one) == hashes(other)


def test_output_hash_depends_on_the_version_and_outputs():
    _, v1, v2 = hashes(BASE, variant(budget_cents=1))
    assert v1[0] != v2[0]
    assert v1[0] != v1[1]


def test_batch_hashes_equal_single_plan_hashes():
    records = [BASE, plan([]), plan([{"skill": "kv_get"}]), variant(budget_cents=7)]
    together = hashes(*records)
    for i, record in enumerate(records):
        assert [h[0] for h in hashes(record)] == [h[i] for h in together]
