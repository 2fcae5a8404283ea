"""The `costsim` console command."""

import hashlib
import json
import subprocess
import sys

import pandas as pd
import pytest

from costsim_assets.api.keys import KeyRing, create_key
from costsim_assets.cli import main
from costsim_assets.settings import load_api_settings
from costsim_assets.store.engine import head_revision, make_engine
from costsim_assets.store.routing import read_routing_state


def test_create_key_prints_it_once_and_stores_only_a_hash(tmp_path, capsys):
    path = tmp_path / "keys.yaml"
    assert main(["create-key", "--tenant", "tenant-a", "--role", "auditor", "--keys-file", str(path)]) == 0
    key = capsys.readouterr().out.strip()
    principal = KeyRing.load(path).authenticate(key)
    assert (principal.tenant_id, principal.role) == ("tenant-a", "auditor")
    assert key.split("_")[2] not in path.read_text()
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_create_key_needs_a_file_and_a_known_role(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("COSTSIM_API_KEYS_FILE", raising=False)
    assert main(["create-key", "--tenant", "t", "--role", "admin"]) == 2
    assert "COSTSIM_API_KEYS_FILE" in capsys.readouterr().err
    with pytest.raises(ValueError, match="role must be one of"):
        create_key(tmp_path / "k.yaml", "t", "root")


def test_routing_command_switches_v2_by_hand(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/store.db"
    monkeypatch.setenv("COSTSIM_DATABASE_URL", url)
    assert main(["routing", "disable", "--reason", "drill", "--actor", "oncall"]) == 0
    assert main(["routing", "disable", "--reason", "again"]) == 0
    out = capsys.readouterr().out
    assert "is now disabled" in out and "was already disabled" in out
    with make_engine(url).connect() as conn:
        state = read_routing_state(conn)
    assert (state.state, state.actor_id, state.reason) == ("disabled", "oncall", "drill")


def test_settings_have_no_working_defaults_for_secrets():
    with pytest.raises(RuntimeError, match="COSTSIM_DATABASE_URL must be set"):
        load_api_settings({})
    settings = load_api_settings(
        {"COSTSIM_DATABASE_URL": "sqlite://", "COSTSIM_API_KEYS_FILE": "k", "COSTSIM_V2_SANDBOX": "on"}
    )
    assert settings.v2_sandbox is True and settings.rate_limit_burst == 100


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "costsim_assets", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "create-key" in result.stdout and "routing" in result.stdout


TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
TRACE_SHA256 = "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6"


def evaluate(capsys, *args) -> tuple[int, str, str]:
    code = main(["evaluate-trace", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_trace_prints_v2_beside_the_baselines_and_an_honest_verdict(capsys):
    code, out, _ = evaluate(capsys, "--source", TRACE, "--sha256", TRACE_SHA256, "--json")
    result = json.loads(out)
    assert code == 0 and result["rows"] == 2646  # only rows after the artifact's training window
    assert set(result["v2"]) == {"output_tokens", "cost", "interval_coverage"}
    assert set(result["v2"]["output_tokens"]) == {"mae", "wape", "bias"} and set(result["v2"]["cost"]) == {
        "mae",
        "wape",
    }
    assert (
        set(result["baselines"])
        == set(result["skill"])
        == {"model_median", "global_median", "input_only", "v1"}
    )
    assert 0.75 <= result["v2"]["interval_coverage"] <= 0.85
    best = result["skill"][result["best_baseline"]]
    if best["output_tokens_lower_bound"] <= 0:
        assert result["verdict"]["status"] != "pass"
        assert any(
            "NOT" in reason and "best naive baseline" in reason for reason in result["verdict"]["reasons"]
        )


def test_evaluate_trace_on_another_service_collapses_coverage_and_fails(tmp_path, capsys):
    """The code trace with every generation three times longer: a service V2 has never seen."""
    trace = pd.read_csv(TRACE, dtype={"TIMESTAMP": str})
    other = tmp_path / "other_service.csv"
    trace.assign(GeneratedTokens=trace["GeneratedTokens"] * 3).to_csv(other, index=False)
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    code, out, _ = evaluate(capsys, "--source", str(other), "--sha256", digest, "--json")
    result = json.loads(out)
    assert code == 0 and result["rows"] == len(trace)
    assert result["v2"]["interval_coverage"] < 0.7  # from ~0.80 on the real rows
    assert result["verdict"]["status"] == "fail"
    reasons = result["verdict"]["reasons"]
    assert any(reason.startswith("output_token_coverage_gap") and "fail" in reason for reason in reasons)
    assert any(reason.startswith("output_token_outlier_pct") and "fail" in reason for reason in reasons)
    code, out, _ = evaluate(capsys, "--source", str(other), "--sha256", digest)
    assert code == 0 and "verdict: fail" in out


def test_evaluate_trace_refuses_a_wrong_checksum_or_format_in_one_line(tmp_path, capsys):
    code, out, err = evaluate(capsys, "--source", TRACE, "--sha256", "0" * 64, "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--sha256" in err
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("ts,tokens\n1,2\n")
    digest = hashlib.sha256(wrong.read_bytes()).hexdigest()
    code, _, err = evaluate(capsys, "--source", str(wrong), "--sha256", digest)
    assert code == 2 and err.count("\n") == 1 and "--source" in err and "Azure format" in err
    code, _, err = evaluate(capsys, "--source", str(tmp_path / "absent.csv"), "--sha256", digest)
    assert code == 2 and "--source" in err and "not readable" in err


def test_routing_status_and_incidents(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COSTSIM_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    with pytest.raises(SystemExit):
        main(["routing", "disable"])  # a reason is required to change anything
    assert main(["routing", "status"]) == 0
    assert "state: enabled" in capsys.readouterr().out
    assert main(["incidents", "--day", "2026-11-23"]) == 0 and capsys.readouterr().out == ""


def test_provision_roles_needs_passwords_and_postgresql(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COSTSIM_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    for name in ("COSTSIM_APP_DB_PASSWORD", "COSTSIM_SANDBOX_DB_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="COSTSIM_APP_DB_PASSWORD must be set"):
        main(["db", "provision-roles"])
    monkeypatch.setenv("COSTSIM_APP_DB_PASSWORD", "a")
    monkeypatch.setenv("COSTSIM_SANDBOX_DB_PASSWORD", "s")
    assert main(["db", "provision-roles"]) == 2
    assert "PostgreSQL only" in capsys.readouterr().err


def test_the_api_and_the_cli_do_not_import_dagster():
    """The API process stays small: settings are pure, the Dagster resources live in defs/."""
    probe = (
        "import sys, costsim_assets.api.app, costsim_assets.cli, costsim_assets.settings; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_db_migrate_reaches_head(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COSTSIM_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    assert main(["db", "migrate"]) == 0
    assert capsys.readouterr().out.strip() == f"migrated to {head_revision()}"


def test_model_status_and_a_person_promotes_only_a_validated_challenger(tmp_path, monkeypatch, capsys):
    from costsim_assets.store.models import record_validation, register_bootstrap, register_challenger

    monkeypatch.setenv("COSTSIM_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    assert main(["db", "migrate"]) == 0
    engine = make_engine(f"sqlite:///{tmp_path}/store.db")
    with engine.begin() as conn:
        register_bootstrap(conn, {"version": "v2-a"})
        register_challenger(conn, {"version": "v2-b"}, ("2026-11-01", "2026-11-02"))
    capsys.readouterr()
    assert main(["model", "promote", "v2-b", "--reason", "looks good"]) == 1
    assert "only a validated challenger" in capsys.readouterr().err
    with engine.begin() as conn:
        record_validation(conn, "v2-b", "2026-11-03", True, "ok", required_days=1)
    assert main(["model", "status"]) == 0
    assert "challenger: v2-b (validated; fitted on 2026-11-01..2026-11-02; unseen days: 2026-11-03 pass)" in (
        capsys.readouterr().out
    )
    assert main(["model", "promote", "v2-b"]) == 2
    assert main(["model", "promote", "v2-b", "--reason", "validated", "--actor", "ops"]) == 0
    assert "V2 v2-b now serves (was v2-a" in capsys.readouterr().out
    with engine.connect() as conn:
        assert read_routing_state(conn).model_version == "v2-b"
