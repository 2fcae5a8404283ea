"""The daily divergence_report asset after a traffic replay: files, summary metadata, signed links
that the API serves, and no_data for a day without provenance."""

import base64
import json
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from costsim_assets.api.app import create_app
from costsim_assets.api.keys import create_key
from costsim_assets.definitions import build_definitions
from costsim_assets.defs.resources import ReportLinksResource
from costsim_assets.reports.divergence import CSV_PREFIX, read_parquet_summary
from costsim_assets.settings import ApiSettings
from tests.dagster.conftest import make_resources

DAY, EMPTY_DAY = "2026-11-24", "2026-11-02"
SIGNING_KEYS = "k1:" + base64.urlsafe_b64encode(b"d" * 32).decode().rstrip("=")
API = "http://api.test"
REPORT_KEY = dg.AssetKey(["reports", "divergence_report"])
SETUP = [dg.AssetKey(["reference", "historical"]), dg.AssetKey(["models", "v2_model"])]
REPLAY = {"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 400}}}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("divergence")
    resources = make_resources(root / "artifacts", f"sqlite:///{root}/store.db")
    resources["report_links"] = ReportLinksResource(api_base_url=API, signing_keys=SIGNING_KEYS)
    job = build_definitions(resources).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    assert job.execute_in_process(instance=instance, asset_selection=SETUP).success
    day = job.execute_in_process(
        instance=instance,
        partition_key=DAY,
        run_config=REPLAY,
        asset_selection=[dg.AssetKey(["sandbox", "traffic_replay"]), REPORT_KEY],
    )
    empty = job.execute_in_process(instance=instance, partition_key=EMPTY_DAY, asset_selection=[REPORT_KEY])
    return resources, root, day, empty


def metadata(result) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == REPORT_KEY]
    return event.materialization.metadata


def test_report_files_and_summary_for_a_replayed_day(world):
    resources, _, result, _ = world
    meta = metadata(result)
    summary = meta["summary"].data
    assert summary["status"] == "ok" and summary["n_rows"] == 400 and 0 <= summary["matching_rate"] <= 1
    assert meta["dagster/row_count"].value == summary["n_rows"] - summary["n_schema_errors"]
    paths = {k.removesuffix("_path"): v.path for k, v in meta.items() if k.endswith("_path")}
    assert set(paths) == {"csv", "jsonl", "parquet", "summary"}
    directory = resources["artifacts"].path("reports", "divergence", DAY)
    assert all(
        Path(p).parent == directory and Path(p).name.startswith(f"divergence_{DAY}.") for p in paths.values()
    )
    assert json.loads(open(paths["summary"]).read()) == summary
    assert read_parquet_summary(paths["parquet"]) == summary
    assert len(pd.read_parquet(paths["parquet"])) == meta["dagster/row_count"].value
    assert json.loads(open(paths["csv"]).readline().removeprefix(CSV_PREFIX)) == summary
    assert json.loads(open(paths["jsonl"]).readline()) == {"summary": summary}


def test_signed_links_are_served_by_the_api(world, tmp_path):
    _, root, result, _ = world
    urls = {k.removesuffix("_url"): v.url for k, v in metadata(result).items() if k.endswith("_url")}
    assert set(urls) == {"csv", "jsonl", "parquet", "summary"} and all(
        u.startswith(API) for u in urls.values()
    )
    create_key(tmp_path / "keys.yaml", "tenant-a", "admin")
    settings = ApiSettings(
        database_url=f"sqlite:///{root}/store.db",
        api_keys_file=str(tmp_path / "keys.yaml"),
        signing_keys=SIGNING_KEYS,
        report_dir=str(root / "artifacts" / "reports" / "divergence"),
    )
    with TestClient(create_app(settings)) as client:
        for fmt, link in urls.items():
            parts = urlsplit(link)
            response = client.get(f"{parts.path}?{parts.query}")
            assert response.status_code == 200, (fmt, response.text)
        assert client.get(urlsplit(urls["csv"]).path).status_code == 403


def test_a_day_without_provenance_is_no_data(world):
    *_, empty = world
    summary = metadata(empty)["summary"].data
    assert summary["status"] == "no_data" and summary["n_pairs"] == 0 and summary["matching_rate"] is None
