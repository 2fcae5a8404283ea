"""The Prometheus alert rules parse, carry the required metadata, and pass their promtool tests,
whose input series are scraped from the real exporter over store histories (alert_series.py).

`promtool` is required: these tests fail (not skip) when it is missing, because a silently
skipped alert test is how broken alerts reach production. Install it with
`scripts/install-promtool.sh`. Set COSTSIM_ALLOW_MISSING_PROMTOOL=1 to skip instead.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.alert_series import render_tests

ROOT = Path(__file__).resolve().parents[2]
RULES = Path("deploy/prometheus/costsim-alerts.yml")
SCENARIOS = Path("deploy/prometheus/tests/costsim-alerts.scenarios.yaml")
README = Path("deploy/prometheus/README.md")
ALLOW_MISSING_ENV = "COSTSIM_ALLOW_MISSING_PROMTOOL"

PRIORITIES = {
    "CostSimV2RealizedDriftP1": "P1",
    "CostSimMedianShiftP2": "P2",
    "CostSimSchemaMismatchP3": "P3",
}
REQUIRED_ALERTS = [*PRIORITIES, "CostSimCanaryNotRunning", "CostSimV2RoutingDisabled"]


def _load(path: Path) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def _alerts() -> dict[str, dict]:
    rules = [rule for group in _load(RULES)["groups"] for rule in group["rules"]]
    return {rule["alert"]: rule for rule in rules if "alert" in rule}


def _promtool() -> str:
    """Path of promtool; a test failure (not a skip) when missing, unless explicitly allowed."""
    path = shutil.which("promtool")
    if path is None:
        message = (
            "promtool not found on PATH: run scripts/install-promtool.sh "
            f"(or set {ALLOW_MISSING_ENV}=1 to skip the promtool tests)"
        )
        if os.environ.get(ALLOW_MISSING_ENV) == "1":
            pytest.skip(message)
        pytest.fail(message)
    return path


def _run_promtool(*args: str) -> None:
    result = subprocess.run(
        [_promtool(), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    output = f"$ promtool {' '.join(args)}\n{result.stdout}{result.stderr}"
    print(output)
    assert result.returncode == 0, f"promtool exited {result.returncode}\n{output}"


def test_promtool_check_rules() -> None:
    _run_promtool("check", "rules", str(RULES))


def test_promtool_unit_tests(tmp_path: Path) -> None:
    rendered = render_tests(ROOT / SCENARIOS, ROOT / RULES, tmp_path)
    tests = yaml.safe_load(rendered.read_text())["tests"]
    exported = {series["series"].split("{")[0] for test in tests for series in test["input_series"]}
    assert {"costsim_requests_total", "costsim_schema_errors_total", "costsim_drift_score"} <= exported
    _run_promtool("test", "rules", str(rendered))


def test_rules_file_is_a_plain_prometheus_rules_file() -> None:
    """The Helm chart embeds the file verbatim, so it may hold nothing but `groups`."""
    document = _load(RULES)
    assert list(document) == ["groups"]
    assert all(group["name"] and group["rules"] for group in document["groups"])


@pytest.mark.parametrize("name", REQUIRED_ALERTS)
def test_alert_declares_severity_summary_and_runbook(name: str) -> None:
    alerts = _alerts()
    assert name in alerts, f"alert {name} missing from {RULES}"
    rule = alerts[name]
    assert rule["labels"]["severity"]
    assert rule["labels"].get("priority") == PRIORITIES.get(name)
    for key in ("summary", "description", "runbook"):
        assert rule["annotations"].get(key), f"{name}: annotations.{key} is empty"


def test_every_alert_has_a_readme_runbook_section() -> None:
    readme = (ROOT / README).read_text()
    for name, rule in _alerts().items():
        assert rule["annotations"]["runbook"] == f"{README}#{name.lower()}"
        assert f"\n## {name}\n" in readme, f"{README} has no '## {name}' section"


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    cases = [case for test in _load(SCENARIOS)["scenarios"] for case in test.get("alert_rule_test", [])]
    for name in _alerts():
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case.get("exp_alerts") for case in mine), f"{name}: no case where it fires"
        assert any(not case.get("exp_alerts") for case in mine), f"{name}: no case where it stays silent"
        for case in mine:
            for alert in case.get("exp_alerts") or []:
                assert alert.get("exp_labels") and alert.get("exp_annotations"), (
                    f"{name} at {case['eval_time']}: firing case must check labels and annotations"
                )
