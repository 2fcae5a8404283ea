"""A no-data canary day (NaN statistics) is stored on both databases; JSONB rejects raw NaN."""

import numpy as np

from costsim_assets.canary.analysis import CanaryDay, analyze
from costsim_assets.canary.config import load_canary_config
from costsim_assets.statistics.percentiles import json_safe
from costsim_assets.store.canary_results import latest_canary_result, record_canary_result
from costsim_assets.store.engine import make_engine, upgrade_to_head


def test_no_data_statistics_round_trip(database_url):
    few = np.ones(5)
    hashes = np.array(["h"] * 5)
    day = CanaryDay(np.array(["ok"] * 5), hashes, hashes, hashes, hashes, few, few, few, few, few, few)
    stats = json_safe(analyze(day, load_canary_config()))
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    with engine.begin() as conn:
        record_canary_result(
            conn,
            partition_key="2026-11-25",
            status=stats["status"],
            sample_size=5,
            drift_score=stats["v2_vs_v1_drift"],
            median_shift=stats["v2_estimate_median_shift"],
            schema_error_ratio=stats["schema_error_ratio"],
            statistics=stats,
            report_path="r",
            diff_path="d",
        )
    with engine.connect() as conn:
        stored = latest_canary_result(conn)
    engine.dispose()
    assert stored["status"] == "no_data" and stored["drift_score"] is None
    assert (
        stored["statistics"]["v2_estimate_median_shift"] is None
        and stored["statistics"]["pairwise"]["n_pairs"] == 5
    )
