"""`costsim verify-history` over the table: OK when intact, the first broken link when not."""

import subprocess
import sys

import pytest

from costsim_assets.cli import main
from costsim_assets.store.engine import make_engine, upgrade_to_head
from costsim_assets.store.status_history import append_status


@pytest.fixture
def url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/store.db"
    monkeypatch.setenv("COSTSIM_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        for tenant in ("a", "b", "a", "a"):
            append_status(
                conn,
                tenant_id=tenant,
                entity_type="job",
                entity_id="e",
                old_status=None,
                new_status="ok",
                actor_type="sensor",
                actor_id="s",
                reason="r",
            )
    engine.dispose()
    return url


def test_intact_table_verifies_for_all_and_one_tenant(url, capsys):
    assert main(["verify-history"]) == 0
    assert main(["verify-history", "--tenant", "a"]) == 0
    assert capsys.readouterr().out.count("OK") == 2


def test_a_row_changed_behind_the_triggers_is_named(url, capsys):
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER status_history_no_update")
        conn.exec_driver_sql("UPDATE status_history SET reason = 'edited' WHERE tenant_id = 'a' AND seq = 2")
    engine.dispose()
    assert main(["verify-history", "--tenant", "b"]) == 0
    assert main(["verify-history"]) == 1
    assert "BROKEN: tenant a seq 2: chain_hash does not match" in capsys.readouterr().out
    result = subprocess.run(
        [sys.executable, "-m", "costsim_assets", "verify-history", "--tenant", "a"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "seq 2" in result.stdout


def test_file_and_tenant_are_exclusive(url):
    with pytest.raises(SystemExit):
        main(["verify-history", "--file", "x.csv", "--tenant", "a"])
